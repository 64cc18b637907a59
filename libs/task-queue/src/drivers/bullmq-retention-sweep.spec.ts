import { Queue, Worker } from 'bullmq';
import fc from 'fast-check';
import { propertyParameters, RedisServer, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import type { ResolvedRetention } from '../task-queue.options.js';
import { BullRetentionSweep, sweepIntervalMs } from './bullmq-retention-sweep.js';
import { bootConformanceApp, type ConformanceApp, sleep, until } from './driver.conformance.js';

const retention = (completedAgeMs: number, deadAgeMs: number): ResolvedRetention => ({
  completed: { count: 100_000, ageMs: completedAgeMs },
  dead: { count: 100_000, ageMs: deadAgeMs },
});

/** Runs jobs `from` … `from + count - 1` through a plain BullMQ worker; those below `failBelow` fail. */
async function finishJobs(queue: Queue, from: number, count: number, failBelow = 0): Promise<void> {
  const worker = new Worker(
    queue.name,
    async (job) => {
      if ((job.data as { i: number }).i < failBelow) throw new Error('boom');
    },
    { connection: queue.opts.connection, prefix: queue.opts.prefix, concurrency: 50 },
  );
  for (let i = from; i < from + count; i += 1_000) {
    const size = Math.min(1_000, from + count - i);
    await queue.addBulk(Array.from({ length: size }, (_, j) => ({ name: 'job', data: { i: i + j } })));
  }
  await until(async () => {
    const counts = await queue.getJobCounts('completed', 'failed');
    return counts.completed + counts.failed === from + count;
  }, 30_000);
  await worker.close();
}

describe('BullRetentionSweep', () => {
  const queues: Queue[] = [];
  const openQueue = (url = redisUrl()) => {
    const queue = new Queue('sweep', {
      connection: { url, maxRetriesPerRequest: 1, commandTimeout: 1_000 },
      prefix: uniquePrefix('tq-sweep'),
    });
    // The killed server's connection errors are the point of one test, not noise for the log.
    queue.on('error', () => undefined);
    queues.push(queue);
    return queue;
  };
  afterEach(async () => {
    for (const queue of queues.splice(0)) {
      await queue.obliterate({ force: true }).catch(() => undefined);
      await queue.close();
    }
  });

  it('sweeps every quarter of the shorter age, between 100 ms and 60 s', () => {
    expect(sweepIntervalMs(retention(86_400_000, 604_800_000))).toBe(60_000);
    expect(sweepIntervalMs(retention(1_000, 604_800_000))).toBe(250);
    expect(sweepIntervalMs(retention(604_800_000, 2_000))).toBe(500);
    expect(sweepIntervalMs(retention(1, 1))).toBe(100);
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 31_536_000_000 }), fc.integer({ min: 1, max: 31_536_000_000 }), (a, b) => {
        const interval = sweepIntervalMs(retention(a, b));
        // Never longer than a quarter of the shorter age unless held at the floor; always a valid timer delay.
        return interval >= 100 && interval <= 60_000 && (interval === 100 || interval <= Math.min(a, b) / 4);
      }),
      propertyParameters(200),
    );
  });

  it('removes finished jobs older than their age, a backlog beyond one page included, and keeps younger ones', async () => {
    const queue = openQueue();
    await finishJobs(queue, 0, 2_600, 100);
    await sleep(600);
    await finishJobs(queue, 2_600, 7);
    const sweep = new BullRetentionSweep(queue, retention(500, 60_000), (error) => {
      throw error;
    });
    await sweep.sweep();
    // The first 2,500 completed ones (three pages) are past 500 ms; the 100 dead ones are not past 60 s.
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 7, failed: 100 });
  });

  it('removes expired dead jobs by their own age', async () => {
    const queue = openQueue();
    await finishJobs(queue, 0, 30, 10);
    await sleep(300);
    const sweep = new BullRetentionSweep(queue, retention(60_000, 200), (error) => {
      throw error;
    });
    await sweep.sweep();
    expect(await queue.getJobCounts('completed', 'failed')).toEqual({ completed: 20, failed: 0 });
  });

  it('reports a Redis failure to its callback and settles; after stop() it reports nothing', async () => {
    const server = await RedisServer.start();
    // Not closed by afterEach: closing a queue whose server is gone rejects (its QUIT cannot be sent).
    const queue = new Queue('sweep', {
      connection: { url: server.url, maxRetriesPerRequest: 1, commandTimeout: 1_000 },
      prefix: uniquePrefix('tq-sweep'),
    });
    queue.on('error', () => undefined);
    try {
      await queue.waitUntilReady();
      await server.kill();
      const errors: Error[] = [];
      const sweep = new BullRetentionSweep(queue, retention(1_000, 1_000), (error) => errors.push(error));
      await sweep.sweep();
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(Error);
      sweep.stop();
      await sweep.sweep();
      expect(errors).toHaveLength(1);
    } finally {
      await queue.close().catch(() => undefined);
      await server.stop();
    }
  });
});

describe('bullmq driver: retention by age (through the module)', () => {
  let app: ConformanceApp | undefined;
  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('removes expired finished tasks while the queue is idle: no later task has to finish', async () => {
    app = await bootConformanceApp({
      driver: 'bullmq',
      connection: { url: redisUrl() },
      prefix: uniquePrefix('tq-sweep-app'),
      retention: { completed: { ageMs: 400 }, dead: { ageMs: 400 } },
    });
    const { queue, probe } = app;
    probe.behaviours.set('echo', (p) => {
      if (p === 'bad') throw new NonRetryableError('bad');
    });
    const refs = await queue.enqueueMany(['bad', 'good'].map((payload) => ({ name: 'echo', payload })));
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    expect(await queue.stats()).toMatchObject({ completed: 1, failed: 1 });
    await until(async () => {
      const stats = await queue.stats();
      return stats.completed === 0 && stats.failed === 0;
    }, 5_000);
    for (const ref of refs) expect(await queue.getTask(ref.id)).toBeUndefined();
  });
});
