import { RedisServer, uniquePrefix } from './harness/index.js';
import { type GatewayHandle, http, startGateway, startUpstreams, stopStack } from './support/demo-stack.js';

const order = (i: number) => ({
  email: `ret${i}@example.com`,
  items: [{ productId: String(1 + (i % 50)), quantity: 1 }],
});

/** Anonymous orders cannot grow the gateway's memory or its Redis without bound: every store keeps a bounded number. */
describe.each([
  ['embedded', false],
  ['distributed', true],
] as const)('demo gateway: bounded retention, %s', (_mode, withRedis) => {
  let redis: RedisServer | undefined;
  let upstreams: Awaited<ReturnType<typeof startUpstreams>>;
  let gateway: GatewayHandle;

  beforeAll(async () => {
    redis = withRedis ? await RedisServer.start() : undefined;
    upstreams = await startUpstreams({ count: 1 });
    gateway = await startGateway({
      UPSTREAMS: upstreams.list,
      REDIS_URL: redis?.url ?? '',
      KEY_PREFIX: uniquePrefix('retention'),
      ORDER_RETENTION_COUNT: '5',
      TASK_RETENTION_COUNT: '4',
    });
  }, 90_000);

  afterAll(async () => {
    await stopStack([gateway], upstreams);
    await redis?.stop();
  });

  it('keeps at most TASK_RETENTION_COUNT finished tasks (and ORDER_RETENTION_COUNT orders in memory)', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 12; i++) {
      const placed = await http(gateway.url, 'POST', '/orders', { body: order(i) });
      expect(placed.status).toBe(202);
      ids.push(placed.body.id);
    }
    await vi.waitFor(
      async () => {
        const { queue } = (await http(gateway.url, 'GET', '/dashboard/state')).body;
        expect(queue.waiting + queue.active + queue.delayed).toBe(0);
        expect(queue.completed).toBeLessThanOrEqual(4);
      },
      { timeout: 20_000, interval: 200 },
    );
    const first = await http(gateway.url, 'GET', `/orders/${ids[0]}`);
    const last = await http(gateway.url, 'GET', `/orders/${ids.at(-1)}`);
    expect(last.status).toBe(200);
    // In Redis orders live 7 days while their tasks left the bounded history; in memory the order itself is gone.
    expect(withRedis ? first.body.status : first.status).toBe(withRedis ? 'expired' : 404);
  });
});
