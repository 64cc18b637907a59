import { DEFAULT_QUEUE_NAME } from '@nest-scale/task-queue';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import type { NodeProcess } from './harness/index.js';
import { redisUrl, uniquePrefix } from './harness/index.js';
import { http, restartUpstream, startGatewayPair, startUpstreams, stopStack } from './support/demo-stack.js';

/**
 * The distributed mode: two gateway processes and three upstream processes sharing one Redis (cache L2 + invalidation
 * bus, BullMQ, the upstreams' catalog). Separate processes, so no event loop is shared between instances.
 */
describe('demo gateways, distributed mode', () => {
  const prefix = uniquePrefix('demo');
  const admin = { authorization: 'Bearer dist-admin-token' };
  let upstreams: { processes: NodeProcess[]; ports: number[]; list: string };
  let a: { url: string; process: NodeProcess };
  let b: { url: string; process: NodeProcess };

  beforeAll(async () => {
    upstreams = await startUpstreams({
      count: 3,
      redisUrl: redisUrl(),
      prefix: `${prefix}:up`,
      separateProcesses: true,
    });
    const env = {
      UPSTREAMS: upstreams.list,
      REDIS_URL: redisUrl(),
      KEY_PREFIX: prefix,
      ADMIN_TOKEN: 'dist-admin-token',
    };
    [a, b] = await startGatewayPair(env);
  }, 120_000);

  afterAll(async () => {
    await stopStack([a, b], upstreams);
  });

  it('runs both gateways in the distributed mode with Redis healthy', async () => {
    for (const gateway of [a, b]) {
      const health = await http(gateway.url, 'GET', '/health');
      expect(health.body.details.redis.status).toBe('up');
      expect(health.body.details.queue.driver).toBe('bullmq');
    }
  });

  it('a PUT on gateway A is seen by a GET on gateway B that had the old value cached', async () => {
    const old = await http(b.url, 'GET', '/products/41');
    expect(old.status).toBe(200);
    expect((await http(b.url, 'GET', '/products/41')).body).toEqual(old.body); // now in B's L1

    const put = await http(a.url, 'PUT', '/products/41', { body: { priceCents: 4242 } });
    expect(put.status).toBe(200);
    await vi.waitFor(
      async () => expect((await http(b.url, 'GET', '/products/41')).body).toMatchObject({ priceCents: 4242 }),
      { timeout: 2_000, interval: 20 },
    );
  });

  it('processes an order posted on A exactly once, and B reports its state', async () => {
    const before = await http(a.url, 'GET', '/products/42', { headers: { 'cache-control': 'no-cache' } });
    const placed = await http(a.url, 'POST', '/orders', {
      body: { email: 'grace@example.com', items: [{ productId: '42', quantity: 3 }] },
    });
    expect(placed.status).toBe(202);
    await vi.waitFor(
      async () => expect((await http(b.url, 'GET', `/orders/${placed.body.id}`)).body.status).toBe('completed'),
      { timeout: 15_000, interval: 100 },
    );
    const order = await http(b.url, 'GET', `/orders/${placed.body.id}`);
    for (const task of order.body.tasks) expect(task.attemptsMade).toBe(1);
    const after = await http(b.url, 'GET', '/products/42', { headers: { 'cache-control': 'no-cache' } });
    expect(after.body.stock).toBe(before.body.stock - 3);
  });

  it('keeps serving when an upstream node dies mid-traffic, ejects it, and re-admits it after a restart', async () => {
    const victimPort = upstreams.ports[0];
    const victimId = `upstream-${victimPort}`;
    const control = { stop: false };
    const failures: number[] = [];
    let served = 0;
    const traffic = (async () => {
      for (let i = 0; !control.stop; i++) {
        const res = await http(a.url, 'GET', `/products/${1 + (i % 50)}`, { headers: { 'cache-control': 'no-cache' } });
        if (res.status === 200) served++;
        else failures.push(res.status);
      }
    })();
    try {
      await new Promise((r) => setTimeout(r, 300));
      await upstreams.processes[0].kill();
      await vi.waitFor(
        async () => {
          const nodes = await http(a.url, 'GET', '/admin/nodes', { headers: admin });
          expect(nodes.body.find((n: { id: string }) => n.id === victimId).state).toBe('ejected');
        },
        { timeout: 10_000, interval: 100 },
      );
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      control.stop = true;
      await traffic;
    }
    expect(served).toBeGreaterThan(20);
    expect(failures).toEqual([]);

    upstreams.processes[0] = await restartUpstream(victimPort, redisUrl(), `${prefix}:up`);
    await vi.waitFor(
      async () => {
        const nodes = await http(a.url, 'GET', '/admin/nodes', { headers: admin });
        expect(nodes.body.find((n: { id: string }) => n.id === victimId).state).toBe('healthy');
      },
      { timeout: 30_000, interval: 200 },
    );
  }, 60_000);

  it('mounts bull-board behind the admin token', async () => {
    expect((await http(a.url, 'GET', '/admin/queues')).status).toBe(401);
    const board = await http(a.url, 'GET', '/admin/queues', { headers: admin });
    expect(board.status).toBe(200);
    expect(board.text).toMatch(/bull/i);
  });

  it('bull-board lists a job whose stored data is not JSON, after the worker failed it without running it', async () => {
    // Another program or version writes a job the gateways cannot read; before, one such job made bull-board's
    // failed list answer 500 (BullMQ's own getJobs threw on it).
    const producer = new Queue(DEFAULT_QUEUE_NAME, { connection: { url: redisUrl() }, prefix });
    const redis = new Redis(redisUrl());
    try {
      const job = await producer.add('order.confirm', { orderId: 'x' }, { delay: 1_500, attempts: 1 });
      await redis.hset(`${prefix}:${DEFAULT_QUEUE_NAME}:${job.id}`, 'data', '{"broken":');
      const failedPage = `/admin/queues/api/queues?activeQueue=${DEFAULT_QUEUE_NAME}&status=failed&page=1&jobsPerPage=50`;
      await vi.waitFor(
        async () => {
          const page = await http(a.url, 'GET', failedPage, { headers: admin });
          expect(page.status).toBe(200);
          const queue = page.body.queues.find((q: { name: string }) => q.name === DEFAULT_QUEUE_NAME);
          const listed = queue.jobs.find((j: { id: string }) => j.id === job.id);
          expect(listed).toMatchObject({ data: '{"broken":', failedReason: expect.stringMatching(/cannot be read/) });
        },
        { timeout: 15_000, interval: 250 },
      );
    } finally {
      await producer.close();
      await redis.quit();
    }
  });
});
