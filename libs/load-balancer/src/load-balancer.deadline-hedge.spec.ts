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
});
