import { Logger } from '@nestjs/common';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { DEFAULT_QUEUE_NAME } from '../task-queue.constants.js';
import {
  bootConformanceApp,
  type ConformanceApp,
  type ConformanceOptions,
  sleep,
  until,
} from './driver.conformance.js';

const bullmqOptions = (overrides: ConformanceOptions = {}): ConformanceOptions => ({
  driver: 'bullmq',
  connection: { url: redisUrl() },
  prefix: uniquePrefix('tq-hostile'),
  ...overrides,
});

/** Resolves with the promise's value, or rejects when it has not settled within `ms` (a livelock or a hang). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not settle within ${ms} ms`)), ms);
  });
  return Promise.race([promise, late]).finally(() => clearTimeout(timer));
}

/** What another program, an old version or a bit flip leaves in a job hash: a field that is not JSON. */
function writeBrokenField(redis: Redis, options: ConformanceOptions, id: string, field: 'data' | 'opts') {
  return redis.hset(`${options.prefix}:${DEFAULT_QUEUE_NAME}:${id}`, field, '{"broken":');
}

describe('bullmq driver: hostile conditions (issue 11)', () => {
  const apps: ConformanceApp[] = [];
  let redis: Redis | undefined;
  const boot = async (options: ConformanceOptions) => {
    const app = await bootConformanceApp(options);
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.close();
    await redis?.quit();
    redis = undefined;
  });

  it('defect 1: retryAllDead retries each task dead at the call once, in bounded time, while they fail again', async () => {
    const { queue, probe } = await boot(bullmqOptions({ concurrency: 50 }));
    probe.behaviours.set('echo', () => {
      throw new NonRetryableError('still broken');
    });
    const tasks = 300;
    await queue.enqueueMany(Array.from({ length: tasks }, (_, i) => ({ name: 'echo', payload: i })));
    await until(async () => (await queue.stats()).failed === tasks, 20_000);
    expect(probe.calls).toHaveLength(tasks);

    expect(await within(queue.retryAllDead(), 20_000, 'retryAllDead()')).toBe(tasks);
    await until(async () => (await queue.stats()).failed === tasks, 20_000);
    await queue.waitUntilIdle({ timeoutMs: 20_000 });
    expect(probe.calls).toHaveLength(2 * tasks);
    const runs = new Map<string, number>();
    for (const call of probe.calls) runs.set(call.id, (runs.get(call.id) ?? 0) + 1);
    expect(new Set(runs.values())).toEqual(new Set([2]));
  }, 60_000);

  it('defect 5 (bullmq side, already correct): retryDead([id, id, unknown]) retries the task once and returns 1', async () => {
    const { queue, probe } = await boot(bullmqOptions());
    probe.behaviours.set('echo', () => {
      throw new NonRetryableError('no');
    });
    const ref = await queue.enqueue('echo', {});
    await until(async () => (await queue.getTask(ref.id))?.state === 'failed');
    expect(await queue.retryDead([ref.id, ref.id, 'no-such-id'])).toBe(1);
    await until(async () => (await queue.getTask(ref.id))?.state === 'failed' && probe.calls.length === 2);
    expect(probe.calls).toHaveLength(2);
  });

  describe('defect 8: a job hash whose data or opts is not valid JSON', () => {
    const corrupt = async (options: ConformanceOptions, id: string, field: 'data' | 'opts') => {
      redis ??= new Redis(redisUrl());
      await writeBrokenField(redis, options, id, field);
    };

    it('goes to the dead tasks at once with a clear error, and the worker goes on with other tasks', async () => {
      vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
      const shared = bullmqOptions();
      const web = await boot({ ...shared, workers: false });
      const [badData, badOpts] = await web.queue.enqueueMany([
        { name: 'echo', payload: 'data' },
        { name: 'echo', payload: 'opts' },
      ]);
      await corrupt(shared, badData.id, 'data');
      await corrupt(shared, badOpts.id, 'opts');
      // Default lock and stall check (30 s each): reaching the dead tasks within seconds means no stall cycle.
      const worker = await boot({ ...shared, workers: true });
      const good = await web.queue.enqueue('echo', 'fine');
      await until(async () => (await web.queue.stats()).failed === 2, 10_000);
      await until(async () => (await web.queue.getTask(good.id))?.state === 'completed', 10_000);
      expect(worker.probe.calls.map((c) => c.payload)).toEqual(['fine']);

      const dead = await web.queue.listDead();
      expect(dead.map((t) => t.id).toSorted()).toEqual([badData.id, badOpts.id].toSorted());
      for (const task of dead) {
        expect(task.state).toBe('failed');
        expect(task.unreadable).toMatch(/not valid JSON/);
        expect(task.error?.message).toMatch(/cannot be read: its (data|opts) (is|are) not valid JSON/);
      }
      expect(await web.queue.getTask(badData.id)).toMatchObject({ state: 'failed', payload: '{"broken":' });
      expect((await web.queue.getTask(badOpts.id))?.state).toBe('failed');

      // What bull-board lists and retries: BullMQ's own reads parse every job of the page, and now can.
      const bull = web.queue.bullQueue as Queue;
      const failed = await bull.getFailed();
      expect(failed.map((job) => job.id).toSorted()).toEqual([badData.id, badOpts.id].toSorted());
      expect(failed.find((job) => job.id === badData.id)?.data).toBe('{"broken":');
      redis ??= new Redis(redisUrl());
      const key = (id: string) => `${shared.prefix}:${DEFAULT_QUEUE_NAME}:${id}`;
      expect(await redis.hget(key(badOpts.id), 'nsUnreadableOpts')).toBe('{"broken":');
      // bull-board's retry button: the job fails again, readably, and the handler still never sees it.
      await failed.find((job) => job.id === badOpts.id)?.retry('failed');
      await until(async () => (await web.queue.getTask(badOpts.id))?.state === 'failed', 10_000);
      expect(worker.probe.calls.map((c) => c.payload)).toEqual(['fine']);

      // Retrying does not throw; the tasks fail again, readably.
      expect(await web.queue.retryDead(badData.id)).toBe(1);
      expect(await web.queue.retryAllDead()).toBeGreaterThanOrEqual(1);
      await until(async () => (await web.queue.stats()).failed === 2, 10_000);
      expect(worker.probe.calls.map((c) => c.payload)).toEqual(['fine']);
    }, 30_000);

    it('in a dead task (written by another version) is reported by listDead, getTask and retried, never thrown', async () => {
      const options = bullmqOptions();
      const { queue, probe } = await boot(options);
      probe.behaviours.set('echo', (p) => {
        if (p === 'bad') throw new NonRetryableError('bad');
      });
      const [bad, other] = await queue.enqueueMany([
        { name: 'echo', payload: 'bad' },
        { name: 'echo', payload: 'bad' },
      ]);
      await until(async () => (await queue.stats()).failed === 2);
      await corrupt(options, bad.id, 'data');
      let dead = await queue.listDead();
      expect(dead).toHaveLength(2);
      expect(dead.find((t) => t.id === bad.id)).toMatchObject({ unreadable: expect.stringMatching(/not valid JSON/) });
      expect(dead.find((t) => t.id === other.id)).toMatchObject({ payload: 'bad' });
      await corrupt(options, other.id, 'opts');
      dead = await queue.listDead();
      expect(dead.map((t) => Boolean(t.unreadable))).toEqual([true, true]);
      expect((await queue.getTask(bad.id))?.unreadable).toMatch(/not valid JSON/);
      // The reads repaired both hashes, so BullMQ's own listing (bull-board's) parses them, losing nothing.
      const failed = await (queue.bullQueue as Queue).getFailed();
      expect(failed.map((job) => job.data).toSorted()).toEqual(['bad', '{"broken":']);
      expect((await queue.listDead()).map((t) => Boolean(t.unreadable))).toEqual([true, true]);
      expect(await queue.retryAllDead()).toBe(2);
      await until(async () => (await queue.stats()).failed === 2);
      await sleep(50);
      expect((await queue.getTask(bad.id))?.error?.message).toMatch(/cannot be read/);
    });
  });
});
