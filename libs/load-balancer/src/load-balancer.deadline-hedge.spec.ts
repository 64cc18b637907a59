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

  it('with percentile, the delay is that percentile of the node the try went to, and the hedge goes elsewhere', async () => {
    const { clock, lb } = setup({ outlierDetection: false, slowStart: false }, 2);
    for (let i = 0; i < 10; i++) {
      lb.report('n0', { latencyMs: 100 });
      lb.report('n1', { latencyMs: 500 });
    }
    for (let i = 0; i < 20; i++) await lb.execute(() => 'ok', { idempotent: true, hedge: { delayMs: 60_000 } });
    const tries: Array<{ node: string; at: number; hedge: boolean }> = [];
    const releases: Array<() => void> = [];
    const calls = [0, 1].map(() =>
      lb.execute(
        (node, _signal, context) =>
          new Promise<void>((resolve) => {
            tries.push({ node: node.id, at: clock.now(), hedge: context.hedge });
            releases.push(resolve);
          }),
        { idempotent: true, hedge: { percentile: 90 } },
      ),
    );
    clock.advance(1_000);
    // The call on n0 (p90 100 ms) hedges to n1 after 100 ms; the call on n1 (p90 500 ms) to n0 after 500 ms.
    expect(tries.toSorted((a, b) => a.at - b.at)).toEqual([
      { node: expect.any(String), at: 0, hedge: false },
      { node: expect.any(String), at: 0, hedge: false },
      { node: 'n1', at: 100, hedge: true },
      { node: 'n0', at: 500, hedge: true },
    ]);
    for (const release of releases) release();
    await Promise.all(calls);
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
