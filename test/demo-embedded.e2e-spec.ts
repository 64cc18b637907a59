import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import type { NodeProcess } from './harness/index.js';
import { http, startGateway, startUpstreams, stopStack } from './support/demo-stack.js';
import { samples, sampleSum } from './support/prometheus-text.js';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Screenshots of the browser tests, for a human to look at (not compared). */
const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** The demo as `npm start` runs it: no Redis, three upstream nodes sharing one in-memory catalog, one gateway. */
describe('demo gateway, embedded mode', () => {
  let upstreams: { processes: NodeProcess[]; ports: number[]; list: string };
  let gateway: { url: string; process: NodeProcess };
  const admin = { authorization: 'Bearer test-admin-token' };

  beforeAll(async () => {
    upstreams = await startUpstreams({ count: 3 });
    gateway = await startGateway({ UPSTREAMS: upstreams.list, ADMIN_TOKEN: 'test-admin-token', REDIS_URL: '' });
  }, 90_000);

  afterAll(async () => {
    await stopStack([gateway], upstreams);
  });

  it('serves a product through the cache, and a PUT evicts it so the next GET is fresh', async () => {
    const first = await http(gateway.url, 'GET', '/products/11');
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ id: '11', name: 'Product 11', priceCents: 1100 });

    const before = (await http(gateway.url, 'GET', '/metrics')).text;
    await http(gateway.url, 'GET', '/products/11');
    const after = (await http(gateway.url, 'GET', '/metrics')).text;
    const l1Hits = { cache_tier: 'l1', cache_outcome: 'hit' };
    expect(sampleSum(after, 'nest_scale_cache_requests_total', l1Hits)).toBe(
      sampleSum(before, 'nest_scale_cache_requests_total', l1Hits) + 1,
    );

    const put = await http(gateway.url, 'PUT', '/products/11', { body: { priceCents: 999, name: 'Renamed' } });
    expect(put.status).toBe(200);
    expect(put.body).toMatchObject({ priceCents: 999, name: 'Renamed', version: first.body.version + 1 });
    const reread = await http(gateway.url, 'GET', '/products/11');
    expect(reread.body).toMatchObject({ priceCents: 999, name: 'Renamed' });
  });

  it('refuses bad input with a 4xx that says what is wrong', async () => {
    const badId = await http(gateway.url, 'GET', '/products/12abc');
    expect(badId.status).toBe(400);
    expect(badId.body.message).toMatch(/positive integer/);

    expect((await http(gateway.url, 'GET', '/products/5000')).status).toBe(404);

    const badPut = await http(gateway.url, 'PUT', '/products/3', { body: { priceCents: 'cheap' } });
    expect(badPut.status).toBe(400);
    expect(JSON.stringify(badPut.body.message)).toMatch(/priceCents/);

    const badOrder = await http(gateway.url, 'POST', '/orders', {
      body: { email: 'not-an-email', items: [{ productId: '1', quantity: 0 }] },
    });
    expect(badOrder.status).toBe(400);
    const messages = JSON.stringify(badOrder.body.message);
    expect(messages).toMatch(/email/);
    expect(messages).toMatch(/quantity/);

    const malformed = await http(gateway.url, 'POST', '/orders', { raw: '{"email": ' });
    expect(malformed.status).toBe(400);

    const huge = await http(gateway.url, 'POST', '/orders', {
      body: { email: 'a@example.com', items: [{ productId: '1', quantity: 1 }], note: 'x'.repeat(64 * 1024) },
    });
    expect(huge.status).toBe(413);

    const badOrderId = await http(gateway.url, 'GET', '/orders/not-a-uuid');
    expect(badOrderId.status).toBe(400);
  });

  it('places an order whose tasks reserve stock and confirm it, visible through GET /orders/:id', async () => {
    const before = await http(gateway.url, 'GET', '/products/21', { headers: { 'cache-control': 'no-cache' } });
    const placed = await http(gateway.url, 'POST', '/orders', {
      body: { email: 'ada@example.com', items: [{ productId: '21', quantity: 4 }] },
    });
    expect(placed.status).toBe(202);
    expect(placed.body.tasks.map((t: { name: string }) => t.name)).toEqual(['reserve-stock', 'send-confirmation']);

    await vi.waitFor(
      async () => {
        const order = await http(gateway.url, 'GET', `/orders/${placed.body.id}`);
        expect(order.body.status).toBe('completed');
      },
      { timeout: 10_000, interval: 100 },
    );
    const after = await http(gateway.url, 'GET', '/products/21', { headers: { 'cache-control': 'no-cache' } });
    expect(after.body.stock).toBe(before.body.stock - 4);

    const unknown = await http(gateway.url, 'GET', '/orders/2b1e4b8e-8d5f-4c4e-9a1c-1b2c3d4e5f60');
    expect(unknown.status).toBe(404);
  });

  it('reports health and Prometheus metrics for all three modules', async () => {
    const health = await http(gateway.url, 'GET', '/health');
    expect(health.status).toBe(200);
    expect(health.body.status).toBe('ok');
    expect(health.body.details.upstreams).toMatchObject({ status: 'up', available: 3, total: 3 });
    expect(health.body.details.queue).toMatchObject({ status: 'up', driver: 'memory' });

    const metrics = (await http(gateway.url, 'GET', '/metrics')).text;
    for (const [name, type] of [
      ['nest_scale_cache_requests_total', 'counter'],
      ['nest_scale_cache_loader_duration_seconds', 'histogram'],
      ['nest_scale_lb_request_duration_seconds', 'histogram'],
      ['nest_scale_lb_requests_in_flight', 'gauge'],
      ['nest_scale_lb_node_state', 'gauge'],
      ['messaging_client_sent_messages_total', 'counter'],
      ['messaging_process_duration_seconds', 'histogram'],
      ['nest_scale_queue_tasks', 'gauge'],
    ]) {
      expect(metrics).toContain(`# TYPE ${name} ${type}`);
    }
    expect(metrics).not.toMatch(/quantile=/);
    const healthy = samples(metrics, 'nest_scale_lb_node_state').filter((s) => s.labels.state === 'healthy');
    expect(healthy.map((s) => [s.labels.node, s.value]).toSorted()).toEqual(
      upstreams.ports.map((port) => [`upstream-${port}`, 1]).toSorted(),
    );
  });

  it('protects the admin endpoints with the configured token', async () => {
    expect((await http(gateway.url, 'POST', '/admin/tasks/dead/retry')).status).toBe(401);
    expect(
      (await http(gateway.url, 'GET', '/admin/nodes', { headers: { authorization: 'Bearer wrong' } })).status,
    ).toBe(401);
    const retried = await http(gateway.url, 'POST', '/admin/tasks/dead/retry', { headers: admin });
    expect(retried.status).toBe(200);
    expect(retried.body).toEqual({ retried: 0 });
    const nodes = await http(gateway.url, 'GET', '/admin/nodes', { headers: admin });
    expect(nodes.body.map((n: { id: string }) => n.id).toSorted()).toEqual(
      upstreams.ports.map((p) => `upstream-${p}`).toSorted(),
    );
    expect((await http(gateway.url, 'POST', '/admin/nodes/nope/drain', { headers: admin })).status).toBe(404);
  });

  it('keeps answering through an upstream outage: from cache, or 503 with a clear message', async () => {
    const cached = await http(gateway.url, 'GET', '/products/31');
    expect(cached.status).toBe(200);
    for (const port of upstreams.ports) {
      await http(`http://127.0.0.1:${port}`, 'PUT', '/faults', { body: { failureRate: 1 } });
    }
    try {
      const fromCache = await http(gateway.url, 'GET', '/products/31');
      expect(fromCache.status).toBe(200);
      expect(fromCache.body).toEqual(cached.body);

      const uncached = await http(gateway.url, 'GET', '/products/32');
      expect(uncached.status).toBe(503);
      expect(uncached.body.message).toMatch(/upstream unavailable/);
      expect((await http(gateway.url, 'GET', '/health')).status).toBeLessThan(600);
    } finally {
      for (const port of upstreams.ports) {
        await http(`http://127.0.0.1:${port}`, 'PUT', '/faults', { body: { failureRate: 0 } });
      }
    }
    expect(gateway.process.alive).toBe(true);
  });

  it('serves the dashboard page and its live state', async () => {
    const page = await http(gateway.url, 'GET', '/dashboard');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(page.text).toContain('Upstream nodes');
    const state = await http(gateway.url, 'GET', '/dashboard/state');
    expect(state.body.mode).toBe('embedded');
    expect(state.body.nodes).toHaveLength(3);
    expect(state.body.cache.l2).toMatch(/off/);
  });

  it('renders the dashboard in headless Chromium with one row per upstream node', async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const page = await browser.newPage();
      await page.goto(`${gateway.url}/dashboard`);
      const rows = page.locator('tr[data-testid="node-row"]');
      await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(3);
      const ids = await rows.evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-node')));
      expect(ids.toSorted()).toEqual(upstreams.ports.map((p) => `upstream-${p}`).toSorted());
      await expect.poll(() => page.locator('#meta').textContent()).toMatch(/embedded mode/);
      expect(await rows.first().locator('.state').textContent()).toMatch(/healthy|probing|ejected|draining/);

      // The history charts: traffic now shows up in the next samples, drawn by uPlot on four canvases.
      for (let i = 0; i < 20; i++) await http(gateway.url, 'GET', `/products/${40 + (i % 5)}`);
      await expect.poll(() => page.locator('.chart .uplot canvas').count(), { timeout: 10_000 }).toBe(4);
      await expect
        .poll(
          async () =>
            (await http(gateway.url, 'GET', '/dashboard/history')).body.requestsPerSecond.some((n: number) => n >= 20),
          {
            timeout: 10_000,
          },
        )
        .toBe(true);
      const history = (await http(gateway.url, 'GET', '/dashboard/history')).body;
      expect(history.hitRatio).toHaveLength(history.t.length);
      expect(Object.keys(history.nodeP99Ms).toSorted()).toEqual(upstreams.ports.map((p) => `upstream-${p}`).toSorted());
      await page.waitForTimeout(2_500);
      mkdirSync(ARTIFACTS, { recursive: true });
      const screenshot = join(ARTIFACTS, 'dashboard.png');
      await page.screenshot({ path: screenshot, fullPage: true });
      expect(statSync(screenshot).size).toBeGreaterThan(10_000);
    } finally {
      await browser.close();
    }
  });
});
