import { Logger } from '@nestjs/common';
import { RedisServer } from '../../../../test/harness/index.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { bootConformanceApp, type ConformanceApp, sleep, until } from './driver.conformance.js';

/** How a promise settled, and after how long. */
async function timed(promise: Promise<unknown>): Promise<{ ms: number; error: unknown }> {
  const started = performance.now();
  try {
    await promise;
    return { ms: performance.now() - started, error: undefined };
  } catch (error) {
    return { ms: performance.now() - started, error };
  }
}

/** Resolves true when `promise` settled before a timer of `ms` fired. */
async function settledBefore(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  const settled = promise.then(
    () => true as const,
    () => true as const,
  );
  try {
    return await Promise.race([settled, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Enqueues every 50 ms until one succeeds; the time from the first try. */
async function firstSuccessAfter(app: ConformanceApp, payload: string, limitMs: number): Promise<number> {
  const started = performance.now();
  for (;;) {
    try {
      await app.queue.enqueue('echo', payload);
      return performance.now() - started;
    } catch (error) {
      if (!(error instanceof TaskEnqueueError)) throw error;
      if (performance.now() - started > limitMs)
        throw new Error(`no enqueue succeeded within ${limitMs} ms`, { cause: error });
      await sleep(50);
    }
  }
}

describe('bullmq driver: a Redis restart (issue 12 queue recovery)', () => {
  let server: RedisServer;
  let app: ConformanceApp | undefined;

  beforeEach(async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    server = await RedisServer.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await server.stop();
    vi.restoreAllMocks();
  });

  /**
   * BullMQ's default reconnect delay is max(min(e^n, 20 000), 1 000) ms for the n-th failed try: 1 s for the
   * first six, then 1.1 s, 3 s, 8.1 s, 20 s. After a 10.5 s outage its next try is ~7.6 s away, so a queue left
   * on that default cannot pass the 5 s bound below (the target is 2 s; the measured time is logged).
   */
  for (const outageMs of [500, 10_500]) {
    it(`enqueue fails fast during a ${outageMs} ms outage, and enqueue and workers recover within seconds of the restart`, async () => {
      app = await bootConformanceApp({ driver: 'bullmq', connection: { url: server.url }, prefix: 'restart' });
      await app.queue.enqueue('echo', 'before');
      await until(() => app!.probe.calls.length === 1);

      await server.kill();
      const started = performance.now();
      const failures: number[] = [];
      do {
        const attempt = app.queue.enqueueMany([{ name: 'echo', payload: 'during' }]);
        // The rejection must not wait for a reconnect try: a full second is a generous margin.
        expect(await settledBefore(attempt, 1_000)).toBe(true);
        const { ms, error } = await timed(attempt);
        expect(error).toBeInstanceOf(TaskEnqueueError);
        failures.push(Math.round(ms));
        await sleep(250);
      } while (performance.now() - started < outageMs);

      await server.restart();
      const restarted = performance.now();
      const recovered = firstSuccessAfter(app, 'after', 30_000);
      expect(await settledBefore(recovered, 5_000)).toBe(true);
      const recoveredMs = await recovered;
      const ran = until(() => app!.probe.calls.some((c) => c.payload === 'after'), 30_000);
      expect(await settledBefore(ran, 5_000)).toBe(true);
      const ranMs = performance.now() - restarted;
      console.info(
        `outage ${outageMs} ms: ${failures.length} enqueues failed, slowest after ${Math.max(...failures)} ms; ` +
          `enqueue worked again ${Math.round(recoveredMs)} ms after the restart, the task ran ${Math.round(ranMs)} ms after it`,
      );
    }, 60_000);
  }
});
