import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { RedisCluster, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { DEFAULT_QUEUE_NAME } from '../task-queue.constants.js';
import {
  bootConformanceApp,
  type ConformanceApp,
  type ConformanceOptions,
  describeTaskQueueConformance,
  until,
} from './driver.conformance.js';
import { describeSeveralQueuesConformance } from './several-queues.conformance.js';
import { describeTaskEventsConformance } from './task-events.conformance.js';
import { describeSchedulesConformance } from './schedules.conformance.js';
import { describeBatchConformance } from './batch.conformance.js';
import { describeFairnessConformance } from './fairness.conformance.js';
import { describeRateLimitConformance } from './rate-limit.conformance.js';

// One 3-master cluster (no replicas) for the conformance suite and the slot checks, a second one for the
// master-loss test, which leaves its cluster with an emptied master.
let cluster: RedisCluster;

beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
});

const clusterOptions = (): ConformanceOptions => ({
  driver: 'bullmq',
  connection: { cluster: cluster.seeds },
  prefix: `{${uniquePrefix('tqc')}}`,
});

async function inspect(options: ConformanceOptions, id: string) {
  const client = new Cluster(cluster.seeds);
  const queue = new Queue(options.queueName ?? DEFAULT_QUEUE_NAME, { connection: client, prefix: options.prefix });
  try {
    const job = await queue.getJob(id);
    return { state: (await job?.getState()) ?? 'missing', attemptsMade: job?.attemptsMade ?? -1 };
  } finally {
    await queue.close();
    client.disconnect();
  }
}

describeTaskQueueConformance('bullmq driver on a Redis Cluster', clusterOptions, { stateAfterShutdown: inspect });
describeSeveralQueuesConformance('bullmq driver on a Redis Cluster', clusterOptions);
describeTaskEventsConformance('bullmq driver on a Redis Cluster', clusterOptions);
describeSchedulesConformance('bullmq driver on a Redis Cluster', clusterOptions);
describeBatchConformance('bullmq driver on a Redis Cluster', clusterOptions);
describeFairnessConformance('bullmq driver on a Redis Cluster', clusterOptions);
describeRateLimitConformance('bullmq driver on a Redis Cluster', clusterOptions);

/** The slot of each key of the cluster whose name contains `part`, read from every master. */
async function slotsOfKeys(client: Cluster, part: string): Promise<Set<number>> {
  const slots = new Set<number>();
  for (const node of client.nodes('master')) {
    const keys = await node.keys(`*${part}*`);
    for (const key of keys) slots.add(Number(await node.cluster('KEYSLOT', key)));
  }
  return slots;
}

/** The port of the master serving `slot`. */
async function masterPortOf(client: Cluster, slot: number): Promise<number> {
  const ranges = await client.cluster('SLOTS');
  const range = ranges.find(([from, to]) => slot >= from && slot <= to);
  if (range === undefined) throw new Error(`no master serves slot ${slot}`);
  return range[2][1];
}

describe('bullmq driver on a Redis Cluster: keys and slots', () => {
  const apps: ConformanceApp[] = [];
  let client: Cluster;

  beforeAll(() => {
    client = new Cluster(cluster.seeds);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    client.disconnect();
  });

  it('keeps each queue in one slot under the default prefix {queueName}, and different queues on different slots', async () => {
    const names = ['orders', 'emails', 'reports'].map((n) => `${n}-${uniquePrefix('q').replaceAll(':', '-')}`);
    for (const queueName of names) {
      const app = await bootConformanceApp({ driver: 'bullmq', connection: { cluster: cluster.seeds }, queueName });
      apps.push(app);
      // A waiting, a delayed and a completed task: keys of several BullMQ types exist for the queue.
      await app.queue.enqueue('echo', 'now');
      await app.queue.enqueue('echo', 'later', { delayMs: 60_000, dedupKey: 'k' });
      await until(() => app.probe.calls.length === 1);
      expect(app.queue.bullQueue?.opts.prefix).toBe(`{${queueName}}`);
    }
    const perQueue = await Promise.all(names.map((n) => slotsOfKeys(client, n)));
    for (const slots of perQueue) expect(slots.size).toBe(1);
    expect(new Set(perQueue.map((slots) => [...slots][0])).size).toBe(names.length);
  });
});

describe('bullmq driver on a Redis Cluster: a master is killed', () => {
  let faulty: RedisCluster;
  let client: Cluster;
  let app: ConformanceApp | undefined;

  beforeAll(async () => {
    faulty = await RedisCluster.start();
    client = new Cluster(faulty.seeds);
  }, 30_000);

  afterAll(async () => {
    await app?.close();
    client?.disconnect();
    await faulty?.stop();
  });

  it('fails enqueues in bounded time while the master is down, and works again once it is back', async () => {
    const queueName = `lossy-${uniquePrefix('q').replaceAll(':', '-')}`;
    app = await bootConformanceApp({
      driver: 'bullmq',
      connection: { cluster: faulty.seeds },
      queueName,
      enqueueTimeoutMs: 1_500,
      shutdownDeadlineMs: 1_000,
    });
    const { queue, probe } = app;
    await queue.enqueueMany([1, 2, 3].map((n) => ({ name: 'echo', payload: `before-${n}` })));
    await until(() => probe.calls.length === 3);

    const slot = Number(await client.cluster('KEYSLOT', `{${queueName}}`));
    const port = await masterPortOf(client, slot);
    const master = faulty.nodes.find((n) => n.port === port);
    if (master === undefined) throw new Error(`no harness node on port ${port}`);
    await master.kill();

    // Nothing hangs: each enqueue gets a TaskEnqueueError within about enqueueTimeoutMs.
    for (let i = 0; i < 3; i++) {
      const started = Date.now();
      await expect(queue.enqueue('echo', `during-${i}`)).rejects.toBeInstanceOf(TaskEnqueueError);
      expect(Date.now() - started).toBeLessThan(5_000);
    }

    // Restarted on the same port with its nodes.conf, the master takes its slots back (empty: it kept no data).
    await master.restart();
    await until(async () => {
      try {
        await queue.enqueue('echo', 'after');
        return true;
      } catch {
        return false;
      }
    }, 30_000);
    await until(() => probe.calls.some((c) => c.payload === 'after'), 30_000);
    expect(probe.calls.filter((c) => String(c.payload).startsWith('during'))).toHaveLength(0);
    // What is lost: that master kept no data (no replica, no persistence), so the queue's history is gone, its
    // id counter included: only the task enqueued after the restart is known.
    await until(async () => (await queue.stats()).completed === 1);
    expect((await queue.stats()).failed + (await queue.stats()).waiting).toBe(0);

    const started = Date.now();
    await app.close();
    expect(Date.now() - started).toBeLessThan(5_000);
  }, 60_000);
});
