import type { NodeProcess } from './harness/index.js';
import { RedisCluster, uniquePrefix } from './harness/index.js';
import { http, startGatewayPair, startUpstreams, stopStack } from './support/demo-stack.js';

/** The scaled-out mode: two gateway processes on a local three-master Redis Cluster (REDIS_CLUSTER). */
describe('demo gateways, scaled-out mode on a Redis Cluster', () => {
  let cluster: RedisCluster;
  let upstreams: { processes: NodeProcess[]; ports: number[]; list: string };
  let a: { url: string; process: NodeProcess };
  let b: { url: string; process: NodeProcess };

  beforeAll(async () => {
    cluster = await RedisCluster.start();
    upstreams = await startUpstreams({ count: 3 });
    const env = {
      UPSTREAMS: upstreams.list,
      REDIS_URL: '',
      REDIS_CLUSTER: cluster.seeds.map((s) => `${s.host}:${s.port}`).join(','),
      KEY_PREFIX: uniquePrefix('scaled').replaceAll(':', '-'),
    };
    [a, b] = await startGatewayPair(env);
  }, 120_000);

  afterAll(async () => {
    await stopStack([a, b], upstreams);
    await cluster?.stop();
  });

  it('runs on the cluster: L2 and invalidation across gateways, orders through BullMQ', async () => {
    for (const gateway of [a, b]) {
      const health = await http(gateway.url, 'GET', '/health');
      expect(health.body.details.redis.status).toBe('up');
      expect(health.body.details.queue.driver).toBe('bullmq');
      expect((await http(gateway.url, 'GET', '/dashboard/state')).body.mode).toBe('scaled-out');
    }

    expect((await http(b.url, 'GET', '/products/61')).status).toBe(200);
    expect((await http(a.url, 'PUT', '/products/61', { body: { name: 'Clustered' } })).status).toBe(200);
    await vi.waitFor(
      async () => expect((await http(b.url, 'GET', '/products/61')).body).toMatchObject({ name: 'Clustered' }),
      { timeout: 2_000, interval: 20 },
    );

    const placed = await http(a.url, 'POST', '/orders', {
      body: { email: 'lin@example.com', items: [{ productId: '62', quantity: 1 }] },
    });
    expect(placed.status).toBe(202);
    await vi.waitFor(
      async () => expect((await http(b.url, 'GET', `/orders/${placed.body.id}`)).body.status).toBe('completed'),
      { timeout: 15_000, interval: 100 },
    );
  });
});
