import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InjectLoadBalancedHttpClient } from '../decorators/inject-load-balanced-http-client.decorator.js';
import { LoadBalancerModule } from '../load-balancer.module.js';
import { InvalidLoadBalancerArgumentError } from '../errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from '../errors/invalid-load-balancer-options.error.js';
import { TryTimeoutError } from '../errors/try-timeout.error.js';
import type { LoadBalancerOptions } from '../interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { seededRandom } from '../random/random-source.js';
import { LoadBalancedHttpClient } from './load-balanced-http-client.js';

interface Upstream {
  server: Server;
  port: number;
  hits: number;
  bodies: string[];
}

async function upstream(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Upstream> {
  const u = { hits: 0, bodies: [] as string[] } as Upstream;
  u.server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      if (req.url !== '/health') u.hits++;
      u.bodies.push(body);
      handler(req, res, body);
    });
  });
  await new Promise<void>((resolve) => u.server.listen(0, '127.0.0.1', resolve));
  u.port = (u.server.address() as AddressInfo).port;
  return u;
}

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
};

const burst = async (http: LoadBalancedHttpClient) => {
  const statuses: number[] = [];
  for (let i = 0; i < 40; i++) {
    const batch = await Promise.all(Array.from({ length: 4 }, () => http.get('/items', { query: { i } })));
    statuses.push(...batch.map((r) => r.status));
  }
  return statuses;
};

describe('LoadBalancedHttpClient against real local servers', () => {
  let healthy: Upstream;
  let slow: Upstream;
  let failing: Upstream;
  let closedPort: number;
  const clients: LoadBalancedHttpClient[] = [];

  beforeAll(async () => {
    healthy = await upstream((req, res, body) =>
      json(res, 200, { node: 'healthy', url: req.url, method: req.method, body }),
    );
    // `/long...` takes 3 s, so a test can tell a timeout from waiting for the answer.
    slow = await upstream((req, res) =>
      setTimeout(() => json(res, 200, { node: 'slow' }), req.url?.startsWith('/long') ? 3_000 : 300),
    );
    failing = await upstream((req, res) => json(res, 500, { error: 'boom' }));
    const closed = await upstream(() => undefined);
    closedPort = closed.port;
    await new Promise((r) => closed.server.close(r));
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    for (const u of [healthy, slow, failing]) {
      u.server.closeAllConnections();
      await new Promise((r) => u.server.close(r));
    }
  });

  beforeEach(() => {
    for (const u of [healthy, slow, failing]) u.hits = 0;
  });

  function client(ids: Array<'healthy' | 'slow' | 'failing' | 'closed'>, options: Partial<LoadBalancerOptions> = {}) {
    const port = { healthy: healthy.port, slow: slow.port, failing: failing.port, closed: closedPort };
    const lb = new LoadBalancer({
      nodes: ids.map((id) => ({ id, host: '127.0.0.1', port: port[id] })),
      random: seededRandom(11),
      ...options,
    });
    const c = new LoadBalancedHttpClient(lb, options.http);
    clients.push(c);
    return { lb, http: c, state: (id: string) => lb.nodes().find((n) => n.id === id)! };
  }

  it('p2c-ewma serves every GET despite a slow node, a 500 node and a closed port', async () => {
    const { http, state } = client(['healthy', 'slow', 'failing', 'closed'], { retries: 3, timeoutMs: 2_000 });
    const statuses = await burst(http);
    expect(statuses).toEqual(Array(160).fill(200));
    // Broken nodes were tried, then avoided; most traffic went to the fast node.
    expect(state('failing').failures).toBeGreaterThanOrEqual(1);
    expect(state('closed').failures).toBeGreaterThanOrEqual(1);
    expect(state('failing').failures + state('closed').failures).toBeLessThan(16);
    expect(healthy.hits).toBeGreaterThan(slow.hits * 3);
    expect(state('healthy').healthScore).toBeGreaterThan(state('slow').healthScore);
    expect(state('failing').healthScore).toBeLessThan(0.5);
    const inFlight = ['healthy', 'slow', 'failing', 'closed'].reduce((sum, id) => sum + state(id).inFlight, 0);
    expect(inFlight).toBe(0);
  });

  it('round-robin ejects the 500 node and the closed port, and retries serve every GET', async () => {
    const { http, state } = client(['healthy', 'failing', 'closed'], {
      strategy: 'round-robin',
      retries: 3,
      outlierDetection: { maxEjectionPercent: 70 },
      panicThreshold: 0.3,
    });
    const statuses = await burst(http);
    expect(statuses).toEqual(Array(160).fill(200));
    for (const id of ['failing', 'closed']) {
      expect(state(id).ejections).toBeGreaterThanOrEqual(1);
      expect(['ejected', 'probing']).toContain(state(id).state);
    }
    expect(state('healthy').ejections).toBe(0);
    expect(healthy.hits).toBeGreaterThanOrEqual(160);
  });

  it('returns the last 5xx response when every try fails with 5xx', async () => {
    const { http, state } = client(['failing'], { retries: 2, panicThreshold: 0, outlierDetection: false });
    const response = await http.get('/items');
    expect(response.status).toBe(500);
    expect(response.ok).toBe(false);
    expect(response.json()).toEqual({ error: 'boom' });
    expect(response.nodeId).toBe('failing');
    expect(failing.hits).toBe(3);
    expect(state('failing').failures).toBe(3);
  });

  it('does not retry a POST after a 500, but does after a refused connection', async () => {
    const first = client(['failing', 'healthy'], { strategy: 'round-robin', random: () => 0, retries: 2 });
    const refused = await first.http.post('/orders', { sku: 'x' });
    expect(refused.status).toBe(500);
    expect(failing.hits).toBe(1);
    expect(healthy.hits).toBe(0);

    const second = client(['closed', 'healthy'], { strategy: 'round-robin', random: () => 0, retries: 2 });
    const ok = await second.http.post('/orders', { sku: 'y' });
    expect(ok.status).toBe(200);
    expect(ok.json()).toMatchObject({ node: 'healthy', method: 'POST', body: '{"sku":"y"}' });
    expect(second.state('closed').failures).toBe(1);
  });

  it('times out a slow try and retries it on another node', async () => {
    const { http, state } = client(['slow', 'healthy'], { strategy: 'round-robin', random: () => 0, retries: 1 });
    const started = Date.now();
    const response = await http.get('/long', { timeoutMs: 100 });
    expect(response.json()).toMatchObject({ node: 'healthy' });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(state('slow').failures).toBe(1);
    const timedOut = await client(['slow'], { retries: 0 })
      .http.get('/long', { timeoutMs: 50 })
      .catch((e: unknown) => e);
    expect(timedOut).toBeInstanceOf(TryTimeoutError);
  });

  it('takes nodes out with active HTTP health checks', async () => {
    const { lb, state } = client(['healthy', 'failing', 'closed'], {
      healthCheck: { path: '/health', unhealthyThreshold: 2, healthyThreshold: 1, timeoutMs: 500 },
      panicThreshold: 0,
    });
    await lb.runHealthChecks();
    await lb.runHealthChecks();
    expect([state('healthy').state, state('failing').state, state('closed').state]).toEqual([
      'healthy',
      'ejected',
      'ejected',
    ]);
    expect(new Set(Array.from({ length: 10 }, () => lb.pick().id))).toEqual(new Set(['healthy']));
    lb.close();
  });

  it('is injectable per named balancer in a Nest app and closes its connections on shutdown', async () => {
    const own = await upstream((req, res) => json(res, 200, { caller: req.headers['x-caller'] }));
    @Injectable()
    class Catalog {
      constructor(@InjectLoadBalancedHttpClient('catalog') readonly http: LoadBalancedHttpClient) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        LoadBalancerModule.register({
          name: 'catalog',
          nodes: [
            { id: 'own', host: '127.0.0.1', port: own.port },
            { id: 'closed', host: '127.0.0.1', port: closedPort },
          ],
          retries: 1,
          http: { headers: { 'x-caller': 'demo' } },
        }),
      ],
      providers: [Catalog],
    }).compile();
    const app = await moduleRef.createNestApplication().init();
    const http = app.get(Catalog).http;
    try {
      const bodies = await Promise.all(Array.from({ length: 6 }, () => http.get('/products/1').then((r) => r.json())));
      expect(bodies).toEqual(Array.from({ length: 6 }, () => ({ caller: 'demo' })));
      expect(http.balancer.name).toBe('catalog');
      const open = () =>
        new Promise<number>((resolve, reject) => own.server.getConnections((e, n) => (e ? reject(e) : resolve(n))));
      expect(await open()).toBeGreaterThan(0);
      await app.close();
      await vi.waitFor(async () => expect(await open()).toBe(0), { timeout: 2_000, interval: 20 });
    } finally {
      own.server.closeAllConnections();
      await new Promise((r) => own.server.close(r));
    }
  });
});

/** Header field names equal to `name` in any case, as they arrived on the wire (`req.rawHeaders`). */
const fields = (raw: string[], name: string) => raw.filter((value, i) => i % 2 === 0 && value.toLowerCase() === name);
const values = (raw: string[], name: string) =>
  raw.flatMap((value, i) => (i % 2 === 1 && raw[i - 1].toLowerCase() === name ? [value] : []));

describe('LoadBalancedHttpClient request headers (defect 25)', () => {
  let server: Server;
  let port: number;
  const seen: string[][] = [];
  const clients: LoadBalancedHttpClient[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.rawHeaders);
      req.resume();
      req.on('end', () => json(res, 200, { ok: true }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  const client = (http: LoadBalancerOptions['http'] = {}) => {
    const c = new LoadBalancedHttpClient(new LoadBalancer({ nodes: [{ id: 'raw', host: '127.0.0.1', port }] }), http);
    clients.push(c);
    return c;
  };
  it.each(['Content-Type', 'content-type', 'CONTENT-TYPE', 'Content-type'])(
    'defect 25: a caller-set %s with an object body is sent as one Content-Type field with the caller value',
    async (name) => {
      seen.length = 0;
      const response = await client().post(
        '/orders',
        { sku: 'x' },
        { headers: { [name]: 'application/merge-patch+json' } },
      );
      expect(response.status).toBe(200);
      expect(fields(seen[0], 'content-type')).toHaveLength(1);
      expect(values(seen[0], 'content-type')).toEqual(['application/merge-patch+json']);
    },
  );

  it('defect 25: an object body without a caller Content-Type gets exactly one application/json field', async () => {
    seen.length = 0;
    await client().post('/orders', { sku: 'x' });
    expect(values(seen[0], 'content-type')).toEqual(['application/json']);
  });

  it('defect 25: a request header overrides a client default header of another case instead of doubling it', async () => {
    seen.length = 0;
    await client({ headers: { 'X-Caller': 'default', 'content-type': 'text/plain' } }).post(
      '/orders',
      { sku: 'x' },
      { headers: { 'x-caller': 'call', 'Content-Type': 'application/vnd.api+json' } },
    );
    expect(values(seen[0], 'x-caller')).toEqual(['call']);
    expect(values(seen[0], 'content-type')).toEqual(['application/vnd.api+json']);
  });

  const circular: Record<string, unknown> = {};
  circular.self = circular;

  it.each([
    ['a path with a space', '/a b', {}, /`request\(path\)` must be a string of printable characters/],
    ['a path that is not a string', 42, {}, /`request\(path\)`.*got 42/],
    ['a method with CRLF', '/x', { method: 'GET\r\nX: 1' }, /`request\(options\)\.method` must be an HTTP token/],
    [
      'a header value with CRLF',
      '/x',
      { headers: { 'x-a': 'a\r\nInjected: 1' } },
      /`request\(options\)\.headers\["x-a"\]`/,
    ],
    ['a number header value', '/x', { headers: { 'x-a': 5 } }, /`request\(options\)\.headers\["x-a"\]`.*got 5/],
    [
      'a header name with a space',
      '/x',
      { headers: { 'x a': '1' } },
      /`request\(options\)\.headers name "x a"` must be an HTTP token/,
    ],
    [
      'a Content-Length header',
      '/x',
      { headers: { 'Content-Length': '3' } },
      /`request\(options\)\.headers\["Content-Length"\]` must be left to the client/,
    ],
    [
      'a BigInt body',
      '/x',
      { method: 'POST', body: { n: 10n } },
      /`request\(options\)\.body` must be a JSON-serializable value \(.*BigInt/,
    ],
    [
      'a circular body',
      '/x',
      { method: 'POST', body: circular },
      /`request\(options\)\.body` must be a JSON-serializable value \(.*circular/i,
    ],
    ['a function body', '/x', { method: 'POST', body: () => 1 }, /`request\(options\)\.body`/],
    ['a nested query value', '/x', { query: { a: { b: 1 } } }, /`request\(options\)\.query\["a"\]`/],
    ['timeoutMs of 2^31', '/x', { timeoutMs: 2 ** 31 }, /`request\(options\)\.timeoutMs`.*got 2147483648/],
    ['retries NaN', '/x', { retries: Number.NaN }, /`request\(options\)\.retries`.*got NaN/],
    ['idempotent as a string', '/x', { idempotent: 'yes' }, /`request\(options\)\.idempotent` must be true or false/],
  ])('rejects %s before any request, without counting it against the node', async (_label, path, options, message) => {
    seen.length = 0;
    const c = client();
    const error = await c.request(path as never, options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLoadBalancerArgumentError);
    expect((error as Error).message).toMatch(message);
    expect(seen).toHaveLength(0);
    expect(c.balancer.nodes()[0]).toMatchObject({ requests: 0, failures: 0 });
  });

  it('sends odd but valid bodies as given: bytes, a string, null as JSON, an own __proto__ key', async () => {
    seen.length = 0;
    const c = client();
    const payload = JSON.parse('{"__proto__":{"isAdmin":true},"user":"eve"}') as unknown;
    for (const body of [new Uint8Array([104, 105]), 'plain', null, payload]) {
      expect((await c.post('/x', body)).status).toBe(200);
    }
    expect(seen.map((raw) => values(raw, 'content-type'))).toEqual([
      [],
      [],
      ['application/json'],
      ['application/json'],
    ]);
  });

  it('rejects bad client options when the client is built, naming the option', () => {
    const lb = new LoadBalancer({ name: 'raw', nodes: [{ host: '127.0.0.1', port }] });
    expect(() => new LoadBalancedHttpClient(lb, { connections: 0 })).toThrow(
      /`LoadBalancedHttpClient\(options\)\.connections` must be an integer from 1 to 2147483647; got 0\./,
    );
    expect(() => new LoadBalancedHttpClient(lb, { timeoutMs: 2 ** 31 })).toThrow(InvalidLoadBalancerOptionsError);
  });
});
