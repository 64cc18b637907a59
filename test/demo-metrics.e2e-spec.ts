import { spawnSync } from 'node:child_process';
import type { NodeProcess } from './harness/index.js';
import { http, startGateway, startUpstreams, stopStack } from './support/demo-stack.js';
import { samples, sampleSum } from './support/prometheus-text.js';

/**
 * The demo's `GET /metrics`: the libraries' OpenTelemetry instruments through the SDK's MeterProvider and Prometheus
 * exporter (apps/demo/src/telemetry), scraped over HTTP after real traffic.
 */
describe('demo gateway /metrics from the OpenTelemetry SDK', () => {
  let upstreams: { processes: NodeProcess[]; ports: number[]; list: string };
  let gateway: { url: string; process: NodeProcess };

  beforeAll(async () => {
    upstreams = await startUpstreams({ count: 3 });
    gateway = await startGateway({ UPSTREAMS: upstreams.list, REDIS_URL: '' });
  }, 90_000);

  afterAll(async () => {
    await stopStack([gateway], upstreams);
  });

  const scrape = async () => {
    const res = await http(gateway.url, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
    return res.text;
  };

  it('counts cached and uncached reads, an order and its tasks, and an ejected node under the contract names', async () => {
    for (let i = 0; i < 3; i++) expect((await http(gateway.url, 'GET', '/products/5')).status).toBe(200);
    for (let i = 0; i < 5; i++) {
      const uncached = await http(gateway.url, 'GET', '/products/6', { headers: { 'cache-control': 'no-cache' } });
      expect(uncached.status).toBe(200);
    }
    const placed = await http(gateway.url, 'POST', '/orders', {
      body: { email: 'ada@example.com', items: [{ productId: '5', quantity: 1 }] },
    });
    expect(placed.status).toBe(202);
    await vi.waitFor(
      async () => expect((await http(gateway.url, 'GET', `/orders/${placed.body.id}`)).body.status).toBe('completed'),
      { timeout: 10_000, interval: 100 },
    );

    const failing = `upstream-${upstreams.ports[0]}`;
    await http(`http://127.0.0.1:${upstreams.ports[0]}`, 'PUT', '/faults', { body: { failureRate: 1 } });
    try {
      await vi.waitFor(
        async () => {
          await http(gateway.url, 'GET', '/products/7', { headers: { 'cache-control': 'no-cache' } });
          const ejections = samples(await scrape(), 'nest_scale_lb_ejections_total');
          expect(ejections.filter((s) => s.labels.node === failing && s.value > 0)).not.toEqual([]);
        },
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      await http(`http://127.0.0.1:${upstreams.ports[0]}`, 'PUT', '/faults', { body: { failureRate: 0 } });
    }

    const text = await scrape();
    expect(
      sampleSum(text, 'nest_scale_cache_requests_total', { cache_tier: 'l1', cache_outcome: 'hit' }),
    ).toBeGreaterThanOrEqual(2);
    expect(sampleSum(text, 'nest_scale_cache_requests_total', { cache_tier: 'loader' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(text, 'nest_scale_cache_loader_duration_seconds_bucket', { le: '+Inf' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(
      sampleSum(text, 'nest_scale_lb_request_duration_seconds_bucket', {
        balancer: 'catalog',
        outcome: 'success',
        le: '+Inf',
      }),
    ).toBeGreaterThanOrEqual(6);
    expect(sampleSum(text, 'nest_scale_lb_ejections_total', { balancer: 'catalog', node: failing })).toBeGreaterThan(0);
    for (const task of ['reserve-stock', 'send-confirmation']) {
      const labels = { messaging_operation_name: task };
      expect(sampleSum(text, 'messaging_client_sent_messages_total', labels)).toBeGreaterThanOrEqual(1);
      expect(
        sampleSum(text, 'messaging_process_duration_seconds_bucket', { ...labels, le: '+Inf' }),
      ).toBeGreaterThanOrEqual(1);
    }
    expect(sampleSum(text, 'nest_scale_queue_tasks', { state: 'completed' })).toBeGreaterThanOrEqual(2);
    // Histograms, not the per-instance quantile gauges of before: they add up across instances.
    expect(text).not.toMatch(/quantile=/);
    expect(sampleSum(text, 'target_info', { service_name: 'nest-scale-demo' })).toBe(1);
  });

  it('is a scrape that promtool parses and finds no lint in', async () => {
    const check = spawnSync('promtool', ['check', 'metrics'], { input: await scrape(), encoding: 'utf8' });
    if (check.error) throw new Error(`promtool not on PATH (apt-get install -y prometheus): ${check.error.message}`);
    // It parses the text format and lints the names (counters end in _total, no unit mismatch, ...).
    expect({ status: check.status, output: `${check.stdout}${check.stderr}` }).toEqual({ status: 0, output: '' });
  });
});
