import { ManualClock } from './clock/manual-clock.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import { seededRandom } from './random/random-source.js';

/** Deadlines and hedges through the public facade (the executor's own spec is execution/call-executor*.spec.ts). */
function setup(options: Partial<LoadBalancerOptions> = {}, size = 3) {
  const clock = new ManualClock();
  const lb = new LoadBalancer({
    nodes: Array.from({ length: size }, (_, i) => ({ id: `n${i}`, host: '127.0.0.1', port: 9000 + i })),
    strategy: 'round-robin',
    clock,
    random: seededRandom(3),
    ...options,
  });
  const inFlight = () => lb.nodes().reduce((sum, n) => sum + n.inFlight, 0);
  return { clock, lb, inFlight };
}

describe('deadlines through the balancer (issue 16 item 1)', () => {
  it('execute({ deadlineMs }) rejects with DeadlineExceededError at the deadline, retries included', async () => {
    const { clock, lb, inFlight } = setup({ outlierDetection: false });
    const signals: AbortSignal[] = [];
    const call = lb.execute(
      (_node, signal) => {
        signals.push(signal);
        return new Promise<never>(() => undefined);
      },
      { retries: 5, timeoutMs: 400, deadlineMs: 1_000 },
    );
    let settledAt: number | undefined;
    call.catch(() => (settledAt = clock.now()));
    for (let i = 0; i < 10; i++) {
      clock.advance(100);
      await Promise.resolve();
      await Promise.resolve();
    }
    const error = await call.catch((e: unknown) => e);
    expect((error as Error).name).toBe('DeadlineExceededError');
    expect(settledAt).toBe(1_000);
    expect(signals).toHaveLength(3);
    expect(signals.every((s) => s.aborted)).toBe(true);
    expect(inFlight()).toBe(0);
  });

  it('the balancer option deadlineMs bounds every execute without its own', async () => {
    const { clock, lb } = setup({ deadlineMs: 250 });
    const call = lb.execute(() => new Promise<never>(() => undefined));
    clock.advance(250);
    await expect(call).rejects.toMatchObject({ name: 'DeadlineExceededError', deadlineMs: 250 });
  });

  it.each([0, -1, 1.5, 2_147_483_648, Number.NaN, '100'])('rejects deadlineMs %s naming the argument', async (bad) => {
    const { lb } = setup();
    await expect(lb.execute(() => 1, { deadlineMs: bad as number })).rejects.toThrow(
      /`execute\(options\)\.deadlineMs` must be an integer number of milliseconds from 1 to 2147483647/,
    );
    expect(() => setup({ deadlineMs: bad as number })).toThrow(
      /`deadlineMs` must be an integer number of milliseconds/,
    );
  });
});

describe('hedge options (issue 16 item 2)', () => {
  it.each([
    [{ hedge: { delayMs: 10 } }, /`execute\(options\)\.idempotent` must be true when `hedge` is set.*got undefined/],
    [
      { idempotent: true, hedge: {} },
      /`execute\(options\)\.hedge` must be given exactly one of `delayMs` and `percentile`/,
    ],
    [{ idempotent: true, hedge: { delayMs: 5, percentile: 90 } }, /exactly one of `delayMs` and `percentile`/],
    [
      { idempotent: true, hedge: { delayMs: -1 } },
      /`execute\(options\)\.hedge\.delayMs` must be an integer number of milliseconds from 0/,
    ],
    [
      { idempotent: true, hedge: { percentile: 100 } },
      /`execute\(options\)\.hedge\.percentile` must be a number from 1 to 99\.9/,
    ],
    [
      { idempotent: true, hedge: { delayMs: 5, maxExtra: 0 } },
      /`execute\(options\)\.hedge\.maxExtra` must be an integer from 1/,
    ],
    [
      { idempotent: true, hedge: { delayMs: 5, budget: 2 } },
      /`execute\(options\)\.hedge\.budget` must be a number from 0 to 1/,
    ],
  ])('rejects %j naming the option, before any try', async (options, message) => {
    const { lb } = setup();
    let called = 0;
    await expect(lb.execute(() => ++called, options as never)).rejects.toThrow(message);
    expect(called).toBe(0);
    expect(lb.nodes().every((n) => n.requests === 0)).toBe(true);
  });

  it('a hedged call through the balancer answers from the hedge and records both nodes', async () => {
    const { clock, lb } = setup({ outlierDetection: false });
    // Earn the hedge budget: ten quick idempotent calls.
    for (let i = 0; i < 11; i++) await lb.execute(() => 'ok', { idempotent: true, hedge: { delayMs: 1_000 } });
    const releases: Array<(v: string) => void> = [];
    const call = lb.execute((node) => new Promise<string>((r) => releases.push((v) => r(`${v}@${node.id}`))), {
      idempotent: true,
      hedge: { delayMs: 100 },
    });
    clock.advance(100);
    expect(releases).toHaveLength(2);
    releases[1]('hedge');
    await expect(call).resolves.toMatch(/^hedge@n\d$/);
    expect(lb.nodes().reduce((sum, n) => sum + n.inFlight, 0)).toBe(0);
  });

  it('with percentile, the delay is that percentile of the latencies of all nodes, for calls on a slow node too', async () => {
    const { clock, lb } = setup({ outlierDetection: false, slowStart: false }, 2);
    // 20 instant calls (they also earn the budget), then n0 at 100 ms and n1 at 500 ms, ten answers each.
    for (let i = 0; i < 20; i++) await lb.execute(() => 'ok', { idempotent: true, hedge: { delayMs: 60_000 } });
    for (let i = 0; i < 10; i++) {
      lb.report('n0', { latencyMs: 100 });
      lb.report('n1', { latencyMs: 500 });
    }
    const tries: Array<{ node: string; at: number; hedge: boolean }> = [];
    const releases: Array<() => void> = [];
    const calls = [0, 1].map(() =>
      lb.execute(
        (node, _signal, context) =>
          new Promise<void>((resolve) => {
            tries.push({ node: node.id, at: clock.now(), hedge: context.hedge });
            releases.push(resolve);
          }),
        { idempotent: true, hedge: { percentile: 70, onSilence: false } },
      ),
    );
    clock.advance(1_000);
    // p70 of the 40 samples (20 × 0, 10 × 100, 10 × 500) is 100 ms: the call on the slow n1 does not wait longer.
    expect(tries.toSorted((a, b) => a.at - b.at || a.node.localeCompare(b.node))).toEqual([
      { node: 'n0', at: 0, hedge: false },
      { node: 'n1', at: 0, hedge: false },
      { node: 'n0', at: 100, hedge: true },
      { node: 'n1', at: 100, hedge: true },
    ]);
    for (const release of releases) release();
    await Promise.all(calls);
  });

  it('a node that stops answering gets its running calls hedged before their delay (onSilence)', async () => {
    const { clock, lb } = setup({ outlierDetection: false, slowStart: false });
    // Latency samples of 100 ms on every node, and budget for the hedges.
    for (let i = 0; i < 30; i++) lb.report(`n${i % 3}`, { latencyMs: 100 });
    for (let i = 0; i < 60; i++) await lb.execute(() => 'ok', { idempotent: true, hedge: { delayMs: 60_000 } });
    const hedgesOfN0: number[] = [];
    // Two calls per node (round robin). n0 is paused and answers nothing; the others answer a first try after 100 ms
    // and a hedge after 300 ms.
    const calls = Array.from({ length: 6 }, () => {
      let first = '';
      return lb.execute(
        (node, signal, context) =>
          new Promise<string>((resolve) => {
            if (!context.hedge) first = node.id;
            else if (first === 'n0') hedgesOfN0.push(clock.now());
            if (node.id === 'n0') signal.addEventListener('abort', () => resolve('aborted'), { once: true });
            else clock.setTimeout(() => resolve(node.id), context.hedge ? 300 : 100);
          }),
        { idempotent: true, hedge: { delayMs: 1_000 } },
      );
    });
    for (let step = 0; step < 80; step++) {
      clock.advance(10);
      for (let tick = 0; tick < 5; tick++) await Promise.resolve();
    }
    const results = await Promise.all(calls);
    expect(results.filter((r) => r === 'aborted')).toEqual([]);
    // The second call on n0 started with 2 tries running there (silent after 4 × 100 / 2 = 200 ms); the first one
    // with 1 (400 ms), and at 400 ms n0 was still silent. The calls elsewhere answered first and were not hedged.
    expect(hedgesOfN0).toEqual([200, 400]);
    const n0 = lb.nodes().find((n) => n.id === 'n0')!;
    expect(n0).toMatchObject({ consecutiveLosses: 2, inFlight: 0 });
  });

  it('a try cut by its timeout is no answer: the node shows no progress since it was given the try', async () => {
    const { clock, lb } = setup({ outlierDetection: false }, 1);
    clock.advance(1_000);
    const hung = lb.execute(() => new Promise(() => undefined), { timeoutMs: 50 });
    clock.advance(50);
    await expect(hung).rejects.toMatchObject({ name: 'TryTimeoutError' });
    const n0 = lb.pick(); // the node itself (a snapshot has no progress time)
    expect(n0.progressAt).toBe(1_000);
    clock.advance(10);
    await lb.execute(() => 'answered');
    expect(n0.progressAt).toBe(1_060);
  });

  it('tries that keep losing to hedges count as no failure: their node is not ejected', async () => {
    const { clock, lb } = setup({ slowStart: false, outlierDetection: { consecutiveFailures: 3 } });
    let lost = 0;
    for (let i = 0; i < 30; i++) {
      // n0 never answers by itself; the others answer in 10 ms. budget 1: every call may hedge.
      const call = lb.execute(
        (node, signal) =>
          new Promise<string>((resolve, reject) => {
            if (node.id !== 'n0') clock.setTimeout(() => resolve('ok'), 10);
            else signal.addEventListener('abort', () => (lost++, reject(signal.reason)), { once: true });
          }),
        { idempotent: true, hedge: { delayMs: 50, budget: 1 } },
      );
      // Step time so each answer's continuation runs before the next timer (no hedge of a call already answered).
      for (let step = 0; step < 10; step++) {
        clock.advance(10);
        for (let tick = 0; tick < 5; tick++) await Promise.resolve();
      }
      await expect(call).resolves.toBe('ok');
    }
    // Every try n0 got lost (at least 10, far past the 3 failures in a row that would eject it).
    expect(lost).toBeGreaterThanOrEqual(10);
    const n0 = lb.nodes().find((n) => n.id === 'n0')!;
    expect(n0).toMatchObject({ state: 'healthy', errorRate: 0, requests: 0 });
    expect(n0.latencyMs).toBeGreaterThanOrEqual(50);
  });
});
