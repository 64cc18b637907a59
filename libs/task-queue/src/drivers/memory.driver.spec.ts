import { Logger } from '@nestjs/common';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import {
  bootConformanceApp,
  type ConformanceApp,
  describeTaskQueueConformance,
  sleep,
  until,
} from './driver.conformance.js';
import { describeSeveralQueuesConformance } from './several-queues.conformance.js';
import { describeTaskEventsConformance } from './task-events.conformance.js';
import { describeSchedulesConformance } from './schedules.conformance.js';
import { describeBatchConformance } from './batch.conformance.js';
import { describeFairnessConformance } from './fairness.conformance.js';
import { describeRateLimitConformance } from './rate-limit.conformance.js';
import { TaskQueueDriver } from './task-queue.driver.js';

describeTaskQueueConformance('memory driver', () => ({ driver: 'memory' }));
describeSeveralQueuesConformance('memory driver', () => ({ driver: 'memory' }));
describeTaskEventsConformance('memory driver', () => ({ driver: 'memory' }));
describeSchedulesConformance('memory driver', () => ({ driver: 'memory' }));
describeBatchConformance('memory driver', () => ({ driver: 'memory' }));
describeFairnessConformance('memory driver', () => ({ driver: 'memory' }));
describeRateLimitConformance('memory driver', () => ({ driver: 'memory' }));

describe('memory driver specifics', () => {
  let app: ConformanceApp | undefined;

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await app?.close();
    app = undefined;
  });

  it('runs delayed tasks and retry backoff on fake timers', async () => {
    vi.useFakeTimers();
    app = await bootConformanceApp({ driver: 'memory', backoff: { type: 'exponential', delayMs: 1_000 } });
    const { queue, probe } = app;
    probe.behaviours.set('echo', (p, ctx) => {
      if (p === 'flaky' && ctx.attempt < 3) throw new Error('not yet');
    });
    await queue.enqueue('echo', 'in-a-minute', { delayMs: 60_000 });
    await queue.enqueue('echo', 'flaky');
    await vi.advanceTimersByTimeAsync(0);
    expect(probe.calls.map((c) => c.payload)).toEqual(['flaky']);
    // Exponential backoff with jitter: the 1st retry waits 500–1000 ms, the 2nd 1000–2000 ms.
    await vi.advanceTimersByTimeAsync(499);
    expect(probe.calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(501);
    expect(probe.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(probe.calls.map((c) => [c.payload, c.attempt])).toEqual([
      ['flaky', 1],
      ['flaky', 2],
      ['flaky', 3],
    ]);
    await vi.advanceTimersByTimeAsync(60_000 - 3_000 - 1);
    expect(probe.calls).toHaveLength(3);
    const idle = queue.waitUntilIdle();
    await vi.advanceTimersByTimeAsync(1);
    await idle;
    expect(probe.calls.map((c) => c.payload)).toEqual(['flaky', 'flaky', 'flaky', 'in-a-minute']);
  });

  it('waitUntilIdle resolves without touching the clock when only immediate tasks are queued', async () => {
    vi.useFakeTimers();
    app = await bootConformanceApp({ driver: 'memory' });
    await app.queue.enqueueMany(Array.from({ length: 100 }, (_, i) => ({ name: 'echo', payload: i })));
    await app.queue.waitUntilIdle();
    expect(app.probe.calls).toHaveLength(100);
  });

  it('closes under fake timers without the clock moving, aborting a stuck task at the (real-time) deadline', async () => {
    vi.useFakeTimers();
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    app = await bootConformanceApp({ driver: 'memory', shutdownDeadlineMs: 200 });
    app.probe.behaviours.set(
      'echo',
      (_p, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    await app.queue.enqueue('echo', {});
    await vi.advanceTimersByTimeAsync(0);
    expect(app.probe.calls).toHaveLength(1);
    await app.close();
    expect(app.probe.calls[0].signal.reason).toBeInstanceOf(TaskAbortedError);
  });

  it('reports tasks it cannot finish at shutdown, and keeps aborted ones as dead', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    app = await bootConformanceApp({ driver: 'memory', shutdownDeadlineMs: 100, concurrency: 1 });
    const { queue, probe } = app;
    probe.behaviours.set(
      'echo',
      (_p, ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    );
    const running = await queue.enqueue('echo', 'running');
    await queue.enqueue('echo', 'waiting');
    await queue.enqueue('echo', 'delayed', { delayMs: 60_000 });
    await until(() => probe.calls.length === 1);
    await app.close();
    const report = warn.mock.calls.map(([m]) => String(m)).find((m) => m.includes('in-memory task queue stopped'));
    expect(report).toContain('1 waiting and 1 delayed');
    expect(report).toContain(`aborted 1 running task(s) (ids ${running.id})`);
    const dead = await queue.listDead();
    expect(dead.map((t) => t.id)).toEqual([running.id]);
    expect(dead[0].error?.name).toBe(TaskAbortedError.name);
  });
});

describe('memory driver: hostile conditions (issue 11)', () => {
  let app: ConformanceApp | undefined;

  afterEach(async () => {
    vi.useRealTimers();
    vi.restoreAllMocks();
    await app?.close();
    app = undefined;
  });

  it('defect 2: a concurrency 1 handler on a concurrency 2 instance runs its tasks first in, first out', async () => {
    app = await bootConformanceApp({ driver: 'memory', concurrency: 2 });
    app.probe.behaviours.set('serial', () => new Promise((resolve) => setImmediate(resolve)));
    await app.queue.enqueueMany(Array.from({ length: 8 }, (_, i) => ({ name: 'serial', payload: i + 1 })));
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(app.probe.calls.map((c) => c.payload)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
  });

  it('defect 3: each attempt gets its own copy of the payload; the dead task keeps it as enqueued', async () => {
    app = await bootConformanceApp({ driver: 'memory', backoff: { type: 'fixed', delayMs: 1, jitter: 0 } });
    const seen: unknown[] = [];
    app.probe.behaviours.set('echo', (payload) => {
      const { items } = payload as { items: number[] };
      seen.push([...items]);
      items.shift();
      throw new Error('again');
    });
    const ref = await app.queue.enqueue('echo', { items: [1, 2, 3] }, { attempts: 3 });
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(seen).toEqual([
      [1, 2, 3],
      [1, 2, 3],
      [1, 2, 3],
    ]);
    const [dead] = await app.queue.listDead();
    expect(dead).toMatchObject({ id: ref.id, payload: { items: [1, 2, 3] } });
    (dead.payload as { items: number[] }).items.length = 0;
    expect((await app.queue.getTask(ref.id))?.payload).toEqual({ items: [1, 2, 3] });
  });

  it('defect 4: an own __proto__ key in a payload stays plain data, never the prototype', async () => {
    app = await bootConformanceApp({ driver: 'memory' });
    const payload: unknown = JSON.parse('{"user":"eve","__proto__":{"isAdmin":true}}');
    await app.queue.enqueue('echo', payload);
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    const seen = app.probe.calls[0].payload as Record<string, unknown>;
    expect(seen.isAdmin).toBeUndefined();
    expect(Object.getPrototypeOf(seen)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(seen, '__proto__')?.value).toEqual({ isAdmin: true });
    expect(JSON.stringify(seen)).toBe('{"user":"eve","__proto__":{"isAdmin":true}}');
  });

  it('defect 5: retryDead([id, id]) retries the task once and returns 1', async () => {
    app = await bootConformanceApp({ driver: 'memory' });
    let fail = true;
    app.probe.behaviours.set('echo', async () => {
      if (fail) throw new NonRetryableError('no');
      await sleep(20);
    });
    const ref = await app.queue.enqueue('echo', {});
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    fail = false;
    expect(await app.queue.retryDead([ref.id, ref.id])).toBe(1);
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(app.probe.calls).toHaveLength(2);
    expect(app.probe.maxTotalRunning).toBe(1);
  });

  it('defect 6: enqueue after shutdown rejects with TaskEnqueueError and leaves no timer behind', async () => {
    app = await bootConformanceApp({ driver: 'memory' });
    const { queue } = app;
    await app.close();
    const timers = vi.spyOn(globalThis, 'setTimeout');
    await expect(queue.enqueue('echo', 'late', { delayMs: 60_000 })).rejects.toBeInstanceOf(TaskEnqueueError);
    await expect(queue.enqueue('echo', 'late')).rejects.toThrow(/task "echo".*shut down/s);
    await expect(queue.enqueueMany([{ name: 'echo', payload: 1 }])).rejects.toBeInstanceOf(TaskEnqueueError);
    expect(timers).not.toHaveBeenCalled();
    expect((await queue.stats()).delayed).toBe(0);
  });
});

describe('memory driver: long delays and bounded memory (issue 11)', () => {
  let app: ConformanceApp | undefined;
  const DAY = 24 * 60 * 60 * 1_000;

  afterEach(async () => {
    vi.useRealTimers();
    await app?.close();
    app = undefined;
  });

  it('defect 26: a task delayed 30 days runs after 30 days, not after the ~1 ms Node gives a 2^31 ms timer', async () => {
    vi.useFakeTimers();
    app = await bootConformanceApp({ driver: 'memory' });
    await app.queue.enqueue('echo', 'next month', { delayMs: 30 * DAY });
    await vi.advanceTimersByTimeAsync(10);
    expect(app.probe.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(30 * DAY - 11);
    expect(app.probe.calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(app.probe.calls.map((c) => c.payload)).toEqual(['next month']);
  });

  it('defect 26: an exponential backoff that grows past 2^31 ms waits its full delay', async () => {
    vi.useFakeTimers();
    const base = 2 ** 30;
    app = await bootConformanceApp({ driver: 'memory', backoff: { type: 'exponential', delayMs: base, jitter: 0 } });
    app.probe.behaviours.set('echo', () => {
      throw new Error('again');
    });
    await app.queue.enqueue('echo', {}, { attempts: 3 });
    await vi.advanceTimersByTimeAsync(base);
    expect(app.probe.calls).toHaveLength(2);
    // The second retry waits 2^31 ms, one more than Node can time in one go.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(app.probe.calls).toHaveLength(2);
    await vi.advanceTimersByTimeAsync(2 * base - 1_000);
    expect(app.probe.calls.map((c) => c.attempt)).toEqual([1, 2, 3]);
  });

  it('defect 27: dedup entries live one window and are dropped after it, so they cannot pile up', async () => {
    vi.useFakeTimers();
    app = await bootConformanceApp({ driver: 'memory', dedupWindowMs: 60_000 });
    const { queue } = app;
    const first = await queue.enqueueMany(
      Array.from({ length: 500 }, (_, i) => ({ name: 'echo', payload: i, options: { dedupKey: `order:${i}` } })),
    );
    await vi.advanceTimersByTimeAsync(59_999);
    expect((await queue.enqueue('echo', 'again', { dedupKey: 'order:7' })).id).toBe(first[7].id);
    await vi.advanceTimersByTimeAsync(1);
    const after = await queue.enqueue('echo', 'again', { dedupKey: 'order:8' });
    expect(after.id).not.toBe(first[8].id);
    const dedup = (app.moduleRef.get(TaskQueueDriver) as unknown as { dedup: Map<string, unknown> }).dedup;
    expect([...dedup.keys()]).toEqual(['order:8']);
  });

  it('defect 27: keeps at most retention.dead.count dead tasks (the default is bounded too)', async () => {
    app = await bootConformanceApp({ driver: 'memory', retention: { dead: { count: 3 } } });
    app.probe.behaviours.set('echo', () => {
      throw new NonRetryableError('no');
    });
    const refs = await app.queue.enqueueMany(Array.from({ length: 10 }, (_, i) => ({ name: 'echo', payload: i })));
    await app.queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect((await app.queue.listDead()).map((t) => t.payload)).toEqual([9, 8, 7]);
    expect(await app.queue.getTask(refs[0].id)).toBeUndefined();
    expect((await app.queue.stats()).failed).toBe(3);
  });
});
