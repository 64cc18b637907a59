import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import { InvalidLoadBalancerArgumentError } from '../errors/invalid-load-balancer-argument.error.js';
import { ResponseTooLargeError } from '../errors/response-too-large.error.js';
import type { LoadBalancedHttpClientOptions } from '../interfaces/http-client-options.interface.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { LoadBalancedHttpClient } from './load-balanced-http-client.js';

/** Real local servers: deadline propagation, bounded bodies and hedging as an upstream sees them. */
async function listen(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ server: Server; port: number }> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A streamed body as text. */
async function read(body: AsyncIterable<unknown>): Promise<string> {
  let text = '';
  for await (const chunk of body) text += String(chunk);
  return text;
}

describe('LoadBalancedHttpClient limits against real servers', () => {
  const servers: Server[] = [];
  const clients: LoadBalancedHttpClient[] = [];
  const seenDeadlines: Array<string | undefined> = [];
  let echoPort: number;
  let silentPort: number;
  let bigPort: number;
  let bigHits = 0;
  /** 1 MiB, chunked (no content-length), or declared up front with ?declared. */
  const BIG = Buffer.alloc(1024 * 1024, 97);

  beforeAll(async () => {
    const echo = await listen((req, res) => {
      seenDeadlines.push(
        (req.headers['x-request-deadline-ms'] as string | undefined) ?? (req.headers['x-budget'] as string | undefined),
      );
      res.end('ok');
    });
    // Accepts the request and never answers.
    const silent = await listen(() => undefined);
    const big = await listen((req, res) => {
      bigHits++;
      if (req.url?.includes('declared')) res.writeHead(200, { 'content-length': BIG.length });
      else res.writeHead(req.url?.includes('fail') ? 503 : 200);
      for (let i = 0; i < 16; i++) res.write(BIG.subarray(i * 65_536, (i + 1) * 65_536));
      res.end();
    });
    bigPort = big.port;
    servers.push(echo.server, silent.server, big.server);
    echoPort = echo.port;
    silentPort = silent.port;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
  });

  const client = (port: number, options: LoadBalancedHttpClientOptions = {}) => {
    const lb = new LoadBalancer({ nodes: [{ id: 'n', host: '127.0.0.1', port }], outlierDetection: false });
    const c = new LoadBalancedHttpClient(lb, options);
    clients.push(c);
    return c;
  };

  it('item 1: sends the time left of the deadline in x-request-deadline-ms, only when there is a deadline', async () => {
    seenDeadlines.length = 0;
    const c = client(echoPort);
    await c.get('/a', { deadlineMs: 5_000 });
    await c.get('/b');
    expect(seenDeadlines).toHaveLength(2);
    const sent = Number(seenDeadlines[0]);
    expect(Number.isInteger(sent) && sent >= 1 && sent <= 5_000).toBe(true);
    expect(seenDeadlines[1]).toBeUndefined();
  });

  it('item 1: the client default deadlineMs applies, under the configured header name, or not at all with false', async () => {
    seenDeadlines.length = 0;
    await client(echoPort, { deadlineMs: 3_000, deadlineHeader: 'X-Budget' }).get('/c');
    await client(echoPort, { deadlineMs: 3_000, deadlineHeader: false }).get('/d');
    expect(Number(seenDeadlines[0])).toBeGreaterThanOrEqual(1);
    expect(Number(seenDeadlines[0])).toBeLessThanOrEqual(3_000);
    expect(seenDeadlines[1]).toBeUndefined();
  });

  it('item 1: a request to an upstream that never answers rejects with DeadlineExceededError, not after the try timeout', async () => {
    const c = client(silentPort, { timeoutMs: 60_000 });
    const error = await c.get('/hang', { deadlineMs: 200 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(c.balancer.nodes()[0].inFlight).toBe(0);
  });

  it('item 1: rejects a bad deadlineMs or deadlineHeader naming the option', async () => {
    const c = client(echoPort);
    await expect(c.get('/e', { deadlineMs: 0 })).rejects.toThrow(/`request\(options\)\.deadlineMs` must be an integer/);
    const lb = new LoadBalancer({ nodes: [{ host: '127.0.0.1', port: echoPort }] });
    expect(() => new LoadBalancedHttpClient(lb, { deadlineMs: 2 ** 31 })).toThrow(
      /`LoadBalancedHttpClient\(options\)\.deadlineMs` must be an integer number of milliseconds from 1 to 2147483647/,
    );
    expect(() => new LoadBalancedHttpClient(lb, { deadlineHeader: 'bad header' })).toThrow(
      /`LoadBalancedHttpClient\(options\)\.deadlineHeader` must be an HTTP token/,
    );
  });

  it('item 4: a body over maxResponseBytes rejects with ResponseTooLargeError, not counted against the node, not retried', async () => {
    bigHits = 0;
    const c = client(bigPort, { maxResponseBytes: 64 * 1024, retries: 2 });
    for (const path of ['/chunked', '/declared']) {
      const error = await c.get(path).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ResponseTooLargeError);
      expect(error).toMatchObject({
        name: 'ResponseTooLargeError',
        maxResponseBytes: 65_536,
        status: 200,
        nodeId: 'n',
      });
      expect((error as Error).message).toMatch(/over 65536 bytes.*Raise "maxResponseBytes".*client\.stream\(\)/);
    }
    expect(bigHits).toBe(2);
    expect(c.balancer.nodes()[0]).toMatchObject({ failures: 0, inFlight: 0 });
    // Per request, a larger cap reads the whole body.
    expect((await c.get('/chunked', { maxResponseBytes: 2 * 1024 * 1024 })).body.length).toBe(BIG.length);
  });

  it('item 4: the default cap (4 MiB) lets a 1 MiB body through', async () => {
    expect((await client(bigPort).get('/chunked')).body.equals(BIG)).toBe(true);
  });

  it('item 4: stream() hands over the body as a stream, without the cap', async () => {
    const c = client(bigPort, { maxResponseBytes: 1024 });
    const response = await c.stream('/chunked');
    expect(response.status).toBe(200);
    let total = 0;
    for await (const chunk of response.body) total += (chunk as Buffer).length;
    expect(total).toBe(BIG.length);
  });

  it('stream(): a 5xx answer is retried on another node like any other, and the last 5xx resolves as a stream', async () => {
    const failing = await listen((_req, res) => {
      res.writeHead(503);
      res.end('down');
    });
    const healthy = await listen((_req, res) => res.end('streamed'));
    servers.push(failing.server, healthy.server);
    const lb = new LoadBalancer({
      strategy: 'round-robin',
      outlierDetection: false,
      nodes: [
        { id: 'failing', host: '127.0.0.1', port: failing.port },
        { id: 'healthy', host: '127.0.0.1', port: healthy.port },
      ],
    });
    const c = new LoadBalancedHttpClient(lb);
    clients.push(c);
    for (let i = 0; i < 4; i++) {
      const response = await c.stream('/s', { retries: 1 });
      expect([response.status, response.nodeId, await read(response.body)]).toEqual([200, 'healthy', 'streamed']);
    }
    const onlyFailing = new LoadBalancedHttpClient(
      new LoadBalancer({ outlierDetection: false, nodes: [{ id: 'failing', host: '127.0.0.1', port: failing.port }] }),
    );
    clients.push(onlyFailing);
    const last = await onlyFailing.stream('/s', { retries: 1 });
    expect([last.status, last.nodeId, await read(last.body)]).toEqual([503, 'failing', 'down']);
  });

  it('item 4: rejects a bad maxResponseBytes naming the option', async () => {
    const c = client(echoPort);
    await expect(c.get('/f', { maxResponseBytes: 0 })).rejects.toThrow(
      /`request\(options\)\.maxResponseBytes` must be an integer from 1 to 2147483647; got 0/,
    );
    const lb = new LoadBalancer({ nodes: [{ host: '127.0.0.1', port: echoPort }] });
    expect(() => new LoadBalancedHttpClient(lb, { maxResponseBytes: 1.5 })).toThrow(
      /`LoadBalancedHttpClient\(options\)\.maxResponseBytes` must be an integer/,
    );
  });

  it('item 2: hedge on a POST without idempotent: true is refused before any try', async () => {
    seenDeadlines.length = 0;
    const c = client(echoPort);
    const error = await c.post('/g', { a: 1 }, { hedge: { delayMs: 10 } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLoadBalancerArgumentError);
    expect((error as Error).message).toMatch(/`request\(options\)\.idempotent` must be true when `hedge` is set/);
    expect(seenDeadlines).toHaveLength(0);
  });

  it('item 2: a hedged GET is answered by the fast node while the slow one hangs, and the slow request is aborted', async () => {
    let slowAborted = 0;
    const slow = await listen((req, res) => {
      const timer = setTimeout(() => res.end('slow'), 10_000);
      res.on('close', () => {
        clearTimeout(timer);
        if (!res.writableEnded) slowAborted++;
      });
      void req;
    });
    const fast = await listen((_req, res) => res.end('fast'));
    servers.push(slow.server, fast.server);
    const lb = new LoadBalancer({
      strategy: 'round-robin',
      outlierDetection: false,
      nodes: [
        { id: 'slow', host: '127.0.0.1', port: slow.port },
        { id: 'fast', host: '127.0.0.1', port: fast.port },
      ],
    });
    const c = new LoadBalancedHttpClient(lb);
    clients.push(c);
    // budget 1: every hedged call pays for its own hedge, so the test does not depend on earlier traffic.
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => c.get('/h', { hedge: { delayMs: 50, budget: 1 }, timeoutMs: 20_000 })),
    );
    expect(responses.map((r) => [r.nodeId, r.text()])).toEqual(Array.from({ length: 4 }, () => ['fast', 'fast']));
    // The server sees the aborted requests' connections close a moment later.
    await vi.waitFor(() => expect(slowAborted).toBe(2), { timeout: 5_000 });
    expect(lb.nodes().every((n) => n.inFlight === 0)).toBe(true);
  });

  it('item 2: over HTTP, GETs held by a node that stopped answering are hedged long before their delay', async () => {
    let paused = false;
    let heldAborted = 0;
    const pausing = await listen((_req, res) => {
      if (!paused) return void res.end('pausing');
      // A stop-the-world pause: the request is accepted and never answered.
      res.on('close', () => {
        if (!res.writableEnded) heldAborted++;
      });
    });
    const fast = await listen((_req, res) => res.end('fast'));
    servers.push(pausing.server, fast.server);
    const lb = new LoadBalancer({
      strategy: 'round-robin',
      outlierDetection: false,
      nodes: [
        { id: 'pausing', host: '127.0.0.1', port: pausing.port },
        { id: 'fast', host: '127.0.0.1', port: fast.port },
      ],
    });
    const c = new LoadBalancedHttpClient(lb);
    clients.push(c);
    // Latency samples from both nodes (no hedge is due within 10 s), then the pause.
    for (let i = 0; i < 20; i++) await c.get('/warm', { hedge: { delayMs: 10_000, budget: 1 } });
    paused = true;
    const started = performance.now();
    const responses = await Promise.all(
      Array.from({ length: 4 }, () => c.get('/h', { hedge: { delayMs: 10_000, budget: 1 }, timeoutMs: 20_000 })),
    );
    const elapsedMs = performance.now() - started;
    expect(responses.map((r) => [r.nodeId, r.text()])).toEqual(Array.from({ length: 4 }, () => ['fast', 'fast']));
    // Hedged on silence, not at the 10 s delay (generous bound: the silent time here is a few ms).
    expect(elapsedMs).toBeLessThan(5_000);
    await vi.waitFor(() => expect(heldAborted).toBe(2), { timeout: 5_000 });
    expect(lb.nodes().find((n) => n.id === 'pausing')).toMatchObject({ inFlight: 0, consecutiveLosses: 2 });
  });

  it('item 5: loadReportHeader feeds the upstream utilization to the balancer; malformed values are ignored', async () => {
    const values = ['0.75', 'busy', '7'];
    const reporting = await listen((_req, res) => {
      res.setHeader('X-Upstream-Utilization', values.shift() ?? '0');
      res.end('ok');
    });
    servers.push(reporting.server);
    const lb = new LoadBalancer({ nodes: [{ id: 'r', host: '127.0.0.1', port: reporting.port }] });
    const c = new LoadBalancedHttpClient(lb, { loadReportHeader: 'X-Upstream-Utilization' });
    clients.push(c);
    await c.get('/1');
    const first = lb.nodes()[0].utilization;
    expect(first).toBeGreaterThan(0.7);
    expect(first).toBeLessThanOrEqual(0.75);
    await c.get('/2');
    await c.get('/3');
    expect(lb.nodes()[0].utilization).toBeLessThanOrEqual(first);
    expect(lb.nodes()[0].utilization).toBeGreaterThan(0.7);
    expect(() => new LoadBalancedHttpClient(lb, { loadReportHeader: 'bad name' })).toThrow(
      /`LoadBalancedHttpClient\(options\)\.loadReportHeader` must be an HTTP token/,
    );
  });
});
