import { Logger } from '@nestjs/common';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { bootConformanceApp, type ConformanceApp, describeTaskQueueConformance, until } from './driver.conformance.js';

describeTaskQueueConformance('memory driver', () => ({ driver: 'memory' }));

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
