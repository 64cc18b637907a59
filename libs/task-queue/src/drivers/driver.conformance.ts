import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { TaskTimeoutError } from '../errors/task-timeout.error.js';
import { UnknownTaskError } from '../errors/unknown-task.error.js';
import { UnserializablePayloadError } from '../errors/unserializable-payload.error.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import type { TaskQueueModuleOptions } from '../interfaces/task-queue-options.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { TaskQueueModuleExtras } from '../task-queue.module-definition.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';

export type ConformanceOptions = TaskQueueModuleOptions & TaskQueueModuleExtras;

interface Call {
  name: string;
  payload: unknown;
  id: string;
  attempt: number;
  at: number;
  signal: AbortSignal;
}

type Behaviour = (payload: unknown, context: TaskContext) => unknown;

/** Records every handler call; each test sets what a handler does. */
export class Probe {
  readonly calls: Call[] = [];
  readonly behaviours = new Map<string, Behaviour>();
  running = new Map<string, number>();
  maxRunning = new Map<string, number>();
  totalRunning = 0;
  maxTotalRunning = 0;

  async run(name: string, payload: unknown, context: TaskContext): Promise<unknown> {
    this.calls.push({
      name,
      payload,
      id: context.id,
      attempt: context.attempt,
      at: Date.now(),
      signal: context.signal,
    });
    const now = (this.running.get(name) ?? 0) + 1;
    this.running.set(name, now);
    this.maxRunning.set(name, Math.max(now, this.maxRunning.get(name) ?? 0));
    this.maxTotalRunning = Math.max(++this.totalRunning, this.maxTotalRunning);
    try {
      const behaviour = this.behaviours.get(name);
      return behaviour ? await behaviour(payload, context) : { echoed: payload };
    } finally {
      this.running.set(name, (this.running.get(name) ?? 1) - 1);
      this.totalRunning--;
    }
  }

  callsOf(name: string): Call[] {
    return this.calls.filter((c) => c.name === name);
  }
}

@Injectable()
export class ConformanceHandlers {
  constructor(readonly probe: Probe) {}

  @TaskHandler('echo')
  echo(payload: unknown, context: TaskContext) {
    return this.probe.run('echo', payload, context);
  }

  @TaskHandler('flaky', { attempts: 3, backoff: { type: 'fixed', delayMs: 60, jitter: 0 } })
  flaky(payload: unknown, context: TaskContext) {
    return this.probe.run('flaky', payload, context);
  }

  @TaskHandler('limited', { concurrency: 2 })
  limited(payload: unknown, context: TaskContext) {
    return this.probe.run('limited', payload, context);
  }

  @TaskHandler('serial', { concurrency: 1 })
  serial(payload: unknown, context: TaskContext) {
    return this.probe.run('serial', payload, context);
  }

  @TaskHandler('slow', { timeoutMs: 150, attempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } })
  slow(payload: unknown, context: TaskContext) {
    return this.probe.run('slow', payload, context);
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await sleep(10);
  }
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

export interface ConformanceApp {
  moduleRef: TestingModule;
  queue: TaskQueue;
  probe: Probe;
  options: ConformanceOptions;
  close(): Promise<void>;
}

export async function bootConformanceApp(options: ConformanceOptions): Promise<ConformanceApp> {
  const probe = new Probe();
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options })],
    providers: [ConformanceHandlers, { provide: Probe, useValue: probe }],
  }).compile();
  await moduleRef.init();
  let closed = false;
  return {
    moduleRef,
    probe,
    options,
    queue: moduleRef.get(TaskQueue),
    close: async () => {
      if (closed) return;
      closed = true;
      await moduleRef.close();
    },
  };
}

/**
 * One behavioural contract for every driver: `makeOptions()` returns fresh, isolated module options (for BullMQ a
 * unique prefix on the test Redis). `afterShutdown.stateAfterShutdown(options, id)` reads a task back after its app
 * closed, for drivers that keep tasks (BullMQ: a task aborted at shutdown is waiting again, unharmed); the memory
 * driver has nothing left to read and checks its report in its own spec.
 */
export function describeTaskQueueConformance(
  label: string,
  makeOptions: () => ConformanceOptions,
  afterShutdown: {
    /** What became of a task, looked up after its app is closed (omitted when the driver keeps nothing). */
    stateAfterShutdown?: (options: ConformanceOptions, id: string) => Promise<{ state: string; attemptsMade: number }>;
  } = {},
): void {
  describe(`TaskQueue conformance: ${label}`, () => {
    let apps: ConformanceApp[] = [];
    const boot = async (overrides: ConformanceOptions = {}) => {
      const app = await bootConformanceApp({ ...makeOptions(), ...overrides });
      apps.push(app);
      return app;
    };

    afterEach(async () => {
      for (const app of apps) await app.close();
      apps = [];
    });

    it('calls the handler with the payload and a context, and keeps the result', async () => {
      const { queue, probe } = await boot();
      const ref = await queue.enqueue('echo', { orderId: 42, tags: ['a'], when: new Date(0) });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls).toHaveLength(1);
      const [call] = probe.calls;
      expect(call.payload).toEqual({ orderId: 42, tags: ['a'], when: '1970-01-01T00:00:00.000Z' });
      expect(call.id).toBe(ref.id);
      expect(call.attempt).toBe(1);
      expect(call.signal).toBeInstanceOf(AbortSignal);
      expect(call.signal.aborted).toBe(false);
      const task = await queue.getTask(ref.id);
      expect(task).toMatchObject({ id: ref.id, name: 'echo', state: 'completed', attemptsMade: 1 });
      expect(task?.result).toEqual({ echoed: call.payload });
    });

    it('rejects an unknown task name or an unserializable payload at once, enqueueing nothing', async () => {
      const { queue, probe } = await boot();
      await expect(queue.enqueue('nope', {})).rejects.toBeInstanceOf(UnknownTaskError);
      await expect(queue.enqueue('nope', {})).rejects.toThrow(/"nope".*Known tasks: .*"echo"/s);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      for (const bad of [{ n: 1n }, { f: () => 1 }, circular, { m: new Map() }, { x: Number.NaN }, [1, undefined]]) {
        await expect(queue.enqueue('echo', bad)).rejects.toBeInstanceOf(UnserializablePayloadError);
      }
      await expect(queue.enqueue('echo', { deep: { n: 1n } })).rejects.toThrow(/payload\.deep\.n is a bigint/);
      await expect(
        queue.enqueueMany([
          { name: 'echo', payload: 1 },
          { name: 'echo', payload: { n: 2n } },
        ]),
      ).rejects.toBeInstanceOf(UnserializablePayloadError);
      await expect(queue.enqueue('echo', {}, { priority: -1 })).rejects.toThrow(/priority/);
      await sleep(100);
      await queue.waitUntilIdle({ timeoutMs: 5_000 });
      expect(probe.calls).toHaveLength(0);
      expect((await queue.stats()).completed).toBe(0);
    });

    it('retries a failing task after a backoff delay, counting every run as an attempt', async () => {
      const { queue, probe } = await boot();
      probe.behaviours.set('flaky', (_p, ctx) => {
        if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
        return 'third time lucky';
      });
      const ref = await queue.enqueue('flaky', { n: 1 });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      const calls = probe.callsOf('flaky');
      expect(calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
      expect(new Set(calls.map((c) => c.id))).toEqual(new Set([ref.id]));
      // Never an immediate retry: each retry waits for the (fixed, 60 ms) backoff.
      expect(calls[1].at - calls[0].at).toBeGreaterThanOrEqual(50);
      expect(calls[2].at - calls[1].at).toBeGreaterThanOrEqual(50);
      expect(await queue.getTask(ref.id)).toMatchObject({
        state: 'completed',
        attemptsMade: 3,
        result: 'third time lucky',
      });
    });

    it('keeps a task that exhausts its attempts as dead, with payload, error and attempts, and retries it', async () => {
      const { queue, probe } = await boot();
      let fail = true;
      probe.behaviours.set('flaky', () => {
        if (fail) throw new TypeError('still broken');
        return 'fixed';
      });
      const ref = await queue.enqueue('flaky', { sku: 'A-1' });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.callsOf('flaky')).toHaveLength(3);
      const dead = await queue.listDead();
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({
        id: ref.id,
        name: 'flaky',
        state: 'failed',
        payload: { sku: 'A-1' },
        attemptsMade: 3,
        maxAttempts: 3,
      });
      expect(dead[0].error).toMatchObject({ name: 'TypeError', message: 'still broken' });
      expect(dead[0].error?.stack).toContain('still broken');
      expect((await queue.stats()).failed).toBe(1);

      fail = false;
      expect(await queue.retryDead(ref.id)).toBe(1);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.callsOf('flaky')).toHaveLength(4);
      expect(probe.callsOf('flaky')[3].attempt).toBe(1);
      expect(await queue.getTask(ref.id)).toMatchObject({ state: 'completed', result: 'fixed', attemptsMade: 1 });
      expect(await queue.listDead()).toHaveLength(0);
    });

    it('retryAllDead moves every dead task back', async () => {
      const { queue, probe } = await boot();
      let fail = true;
      probe.behaviours.set('echo', () => {
        if (fail) throw new NonRetryableError('nope');
        return 'ok';
      });
      await queue.enqueueMany([1, 2, 3].map((n) => ({ name: 'echo', payload: n })));
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(await queue.listDead()).toHaveLength(3);
      fail = false;
      expect(await queue.retryAllDead()).toBe(3);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(await queue.listDead()).toHaveLength(0);
      expect(probe.callsOf('echo')).toHaveLength(6);
    });

    it('fails a task at once on a NonRetryableError, whatever its attempts', async () => {
      const { queue, probe } = await boot();
      probe.behaviours.set('echo', () => {
        throw new NonRetryableError('invalid order');
      });
      const ref = await queue.enqueue('echo', {}, { attempts: 5 });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls).toHaveLength(1);
      expect(await queue.getTask(ref.id)).toMatchObject({
        state: 'failed',
        attemptsMade: 1,
        error: { message: 'invalid order' },
      });
    });

    it('honours attempts given at enqueue (attempts: 2 → at most 2 calls)', async () => {
      const { queue, probe } = await boot({ backoff: { type: 'fixed', delayMs: 5 } });
      probe.behaviours.set('echo', () => {
        throw new Error('x');
      });
      const ref = await queue.enqueue('echo', {}, { attempts: 2 });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls.map((c) => c.attempt)).toEqual([1, 2]);
      expect(await queue.getTask(ref.id)).toMatchObject({ state: 'failed', attemptsMade: 2, maxAttempts: 2 });
    });

    it('runs a delayed task no earlier than its delay', async () => {
      const { queue, probe } = await boot();
      const start = Date.now();
      const ref = await queue.enqueue('echo', 'later', { delayMs: 400 });
      await sleep(100);
      expect(probe.calls).toHaveLength(0);
      expect((await queue.getTask(ref.id))?.state).toBe('delayed');
      expect((await queue.stats()).delayed).toBe(1);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls).toHaveLength(1);
      expect(probe.calls[0].at - start).toBeGreaterThanOrEqual(390);
    });

    it('runs tasks without priority first, then by priority (lower first), FIFO among equals', async () => {
      const { queue, probe } = await boot({ concurrency: 1 });
      const gate = deferred();
      probe.behaviours.set('serial', async (p) => {
        if (p === 'gate') await gate.promise;
      });
      await queue.enqueue('serial', 'gate');
      await until(() => probe.calls.length === 1);
      await queue.enqueue('serial', 'p3', { priority: 3 });
      await queue.enqueue('serial', 'p1-a', { priority: 1 });
      await queue.enqueue('serial', 'none-a');
      await queue.enqueue('serial', 'p2', { priority: 2 });
      await queue.enqueue('serial', 'p1-b', { priority: 1 });
      await queue.enqueue('serial', 'none-b');
      gate.resolve();
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls.map((c) => c.payload)).toEqual(['gate', 'none-a', 'none-b', 'p1-a', 'p1-b', 'p2', 'p3']);
    });

    it('deduplicates by dedupKey (any string) while pending, running and completed, within the window', async () => {
      const { queue, probe } = await boot({ dedupWindowMs: 2_500 });
      const gate = deferred();
      probe.behaviours.set('echo', async () => gate.promise);
      const key = 'order:42/reserve:{eu}';
      const first = await queue.enqueue('echo', { n: 1 }, { dedupKey: key, delayMs: 50 });
      const pending = await queue.enqueue('echo', { n: 2 }, { dedupKey: key });
      expect(pending.id).toBe(first.id);
      await until(() => probe.calls.length === 1);
      const running = await queue.enqueue('echo', { n: 3 }, { dedupKey: key });
      expect(running.id).toBe(first.id);
      gate.resolve();
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      const [again, other] = await queue.enqueueMany([
        { name: 'echo', payload: { n: 4 }, options: { dedupKey: key } },
        { name: 'echo', payload: { n: 5 }, options: { dedupKey: 'order:43' } },
      ]);
      expect(again.id).toBe(first.id);
      expect(other.id).not.toBe(first.id);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls.map((c) => c.payload)).toEqual([{ n: 1 }, { n: 5 }]);
      expect(await queue.getTask(first.id)).toMatchObject({ state: 'completed', payload: { n: 1 } });

      await sleep(2_600);
      const afterWindow = await queue.enqueue('echo', { n: 6 }, { dedupKey: key });
      expect(afterWindow.id).not.toBe(first.id);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls.map((c) => c.payload)).toEqual([{ n: 1 }, { n: 5 }, { n: 6 }]);
    });

    it("never runs more than a handler's concurrency, nor more than the instance's concurrency in total", async () => {
      const { queue, probe } = await boot({ concurrency: 3 });
      probe.behaviours.set('limited', () => sleep(60));
      probe.behaviours.set('echo', () => sleep(60));
      await queue.enqueueMany(Array.from({ length: 8 }, (_, i) => ({ name: 'limited', payload: i })));
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.callsOf('limited')).toHaveLength(8);
      expect(probe.maxRunning.get('limited')).toBe(2);

      await queue.enqueueMany(Array.from({ length: 9 }, (_, i) => ({ name: 'echo', payload: i })));
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.callsOf('echo')).toHaveLength(9);
      expect(probe.maxRunning.get('echo')).toBe(3);
      expect(probe.maxTotalRunning).toBe(3);
    });

    it('aborts an attempt past its timeoutMs through context.signal and counts it as failed', async () => {
      const { queue, probe } = await boot();
      const reasons: unknown[] = [];
      probe.behaviours.set('slow', (_p, ctx) => {
        return new Promise((_, reject) => {
          ctx.signal.addEventListener('abort', () => {
            reasons.push(ctx.signal.reason);
            reject(ctx.signal.reason);
          });
        });
      });
      const ref = await queue.enqueue('slow', {});
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.callsOf('slow').map((c) => c.attempt)).toEqual([1, 2]);
      expect(reasons).toHaveLength(2);
      expect(reasons[0]).toBeInstanceOf(TaskTimeoutError);
      expect(await queue.getTask(ref.id)).toMatchObject({ state: 'failed', error: { name: 'TaskTimeoutError' } });
    });

    it('enqueueMany adds a batch and returns the references in order', async () => {
      const { queue, probe } = await boot();
      const refs = await queue.enqueueMany(Array.from({ length: 50 }, (_, i) => ({ name: 'echo', payload: i })));
      expect(refs).toHaveLength(50);
      expect(new Set(refs.map((r) => r.id)).size).toBe(50);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(probe.calls.map((c) => c.payload).toSorted((a, b) => (a as number) - (b as number))).toEqual(
        Array.from({ length: 50 }, (_, i) => i),
      );
      const byId = new Map(probe.calls.map((c) => [c.id, c.payload]));
      refs.forEach((ref, i) => expect(byId.get(ref.id)).toBe(i));
      expect(await queue.enqueueMany([])).toEqual([]);
    });

    it("reports counts and this instance's counters in stats()", async () => {
      const { queue, probe } = await boot();
      probe.behaviours.set('echo', (p) => {
        if (p === 'bad') throw new NonRetryableError('bad');
      });
      await queue.enqueueMany(['a', 'b', 'bad'].map((payload) => ({ name: 'echo', payload })));
      await queue.enqueue('echo', 'later', { delayMs: 60_000 });
      await until(async () => (await queue.stats()).completed === 2 && (await queue.stats()).failed === 1);
      const stats = await queue.stats();
      expect(stats).toMatchObject({
        waiting: 0,
        active: 0,
        delayed: 1,
        failed: 1,
        completed: 2,
        processed: 2,
        failedAttempts: 1,
      });
      expect(stats.durations.count).toBe(3);
      expect(stats.durations.maxMs).toBeGreaterThanOrEqual(stats.durations.p50Ms);
    });

    it('runs nothing on an instance with workers: false', async () => {
      const { queue, probe } = await boot({ workers: false });
      const ref = await queue.enqueue('echo', 'x');
      await sleep(200);
      expect(probe.calls).toHaveLength(0);
      expect((await queue.getTask(ref.id))?.state).toBe('waiting');
      expect((await queue.stats()).waiting).toBe(1);
      await expect(queue.waitUntilIdle({ timeoutMs: 100 })).rejects.toThrow(/not idle/);
    });

    it('at shutdown lets running tasks finish within the deadline', async () => {
      const app = await boot({ shutdownDeadlineMs: 5_000 });
      let finished = false;
      app.probe.behaviours.set('echo', async () => {
        await sleep(300);
        finished = true;
      });
      const ref = await app.queue.enqueue('echo', {});
      await until(() => app.probe.calls.length === 1);
      await app.close();
      expect(finished).toBe(true);
      expect(app.probe.calls[0].signal.aborted).toBe(false);
      if (afterShutdown.stateAfterShutdown) {
        expect(await afterShutdown.stateAfterShutdown(app.options, ref.id)).toEqual({
          state: 'completed',
          attemptsMade: 1,
        });
      }
    });

    it('defect 6: enqueue after the application closed rejects with TaskEnqueueError, storing nothing', async () => {
      const app = await boot();
      await app.close();
      await expect(app.queue.enqueue('echo', 'late')).rejects.toBeInstanceOf(TaskEnqueueError);
      await expect(app.queue.enqueue('echo', 'late', { delayMs: 60_000 })).rejects.toThrow(/task "echo".*shut down/s);
      await expect(app.queue.enqueueMany([{ name: 'echo', payload: 1 }])).rejects.toThrow(/^(?!.*\.\.).*shut down/s);
      expect(app.probe.calls).toHaveLength(0);
    });

    it("defect 7: a dedup hit returns the original task's id and name, whatever name the new call used", async () => {
      const { queue } = await boot();
      const first = await queue.enqueue('echo', 1, { dedupKey: 'order:7', delayMs: 60_000 });
      expect(await queue.enqueue('flaky', 2, { dedupKey: 'order:7' })).toEqual({ id: first.id, name: 'echo' });
      const [hit, fresh] = await queue.enqueueMany([
        { name: 'serial', payload: 3, options: { dedupKey: 'order:7' } },
        { name: 'serial', payload: 4, options: { dedupKey: 'order:8', delayMs: 60_000 } },
      ]);
      expect(hit).toEqual({ id: first.id, name: 'echo' });
      expect(fresh.name).toBe('serial');
    });

    it('defect 26: a task delayed by 30 days waits (no timer fires early), and the delay is kept', async () => {
      const { queue, probe } = await boot();
      const ref = await queue.enqueue('echo', 'next month', { delayMs: 30 * 24 * 60 * 60 * 1_000 });
      await sleep(300);
      expect(probe.calls).toHaveLength(0);
      expect((await queue.getTask(ref.id))?.state).toBe('delayed');
      expect((await queue.stats()).delayed).toBe(1);
    });

    it('defect 27: keeps at most retention.*.count finished tasks, the most recent ones', async () => {
      const { queue, probe } = await boot({ retention: { completed: { count: 2 }, dead: { count: 2 } } });
      probe.behaviours.set('echo', (p) => {
        if ((p as number) % 2 === 1) throw new NonRetryableError(`odd ${p}`);
      });
      const refs: TaskRef[] = [];
      for (let i = 0; i < 8; i++) {
        refs.push(await queue.enqueue('echo', i));
        await queue.waitUntilIdle({ timeoutMs: 10_000 });
      }
      const stats = await queue.stats();
      expect([stats.completed, stats.failed]).toEqual([2, 2]);
      expect((await queue.listDead()).map((t) => t.payload)).toEqual([7, 5]);
      expect(await queue.getTask(refs[0].id)).toBeUndefined();
      expect(await queue.getTask(refs[1].id)).toBeUndefined();
      expect((await queue.getTask(refs[6].id))?.state).toBe('completed');
    });

    it('defect 27: drops finished tasks older than retention.*.ageMs when later tasks finish', async () => {
      const { queue, probe } = await boot({ retention: { completed: { ageMs: 1_000 }, dead: { ageMs: 1_000 } } });
      probe.behaviours.set('echo', (p) => {
        if (String(p).startsWith('bad')) throw new NonRetryableError(String(p));
      });
      const old = await queue.enqueueMany(['bad-old', 'good-old'].map((payload) => ({ name: 'echo', payload })));
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      await sleep(2_100);
      await queue.enqueueMany(['bad-new', 'good-new'].map((payload) => ({ name: 'echo', payload })));
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect((await queue.listDead()).map((t) => t.payload)).toEqual(['bad-new']);
      for (const ref of old) expect(await queue.getTask(ref.id)).toBeUndefined();
      expect((await queue.stats()).completed).toBe(1);
    });

    it('at shutdown aborts tasks still running at the deadline, in bounded time', async () => {
      const app = await boot({ shutdownDeadlineMs: 200 });
      app.probe.behaviours.set(
        'echo',
        (_p, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
      );
      const ref = await app.queue.enqueue('echo', {});
      await until(() => app.probe.calls.length === 1);
      const started = Date.now();
      await app.close();
      expect(Date.now() - started).toBeLessThan(5_000);
      const { signal } = app.probe.calls[0];
      expect(signal.aborted).toBe(true);
      expect(signal.reason).toBeInstanceOf(TaskAbortedError);
      if (afterShutdown.stateAfterShutdown) {
        expect(await afterShutdown.stateAfterShutdown(app.options, ref.id)).toEqual({
          state: 'waiting',
          attemptsMade: 0,
        });
      }
    });
  });
}
