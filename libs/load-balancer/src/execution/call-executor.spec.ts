import { ManualClock } from '../clock/manual-clock.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import { NoAvailableNodeError } from '../errors/no-available-node.error.js';
import { TryTimeoutError } from '../errors/try-timeout.error.js';
import { UpstreamNode } from '../node/upstream-node.js';
import { CallExecutor, type CallDefaults } from './call-executor.js';
import type { TrySelector } from './call-run.js';
import { HedgeBudget } from './hedge-budget.js';
import type { TryContext, TryOutcome } from './running-try.js';

/** The executor alone: a round-robin selector over fixed nodes, an accounting log, a ManualClock. */
function setup(defaults: Partial<CallDefaults> = {}, size = 3) {
  const clock = new ManualClock();
  const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', 9000 + i, 1));
  const log: Array<{ node: string; outcome: TryOutcome; latencyMs: number }> = [];
  const released: string[] = [];
  const latency = new Map<UpstreamNode, number>();
  const percentiles = new Map<number, number>();
  let next = 0;
  const selector: TrySelector = {
    pick: () => {
      if (nodes.length === 0) throw new NoAvailableNodeError('test', 0);
      return nodes[next++ % nodes.length];
    },
    pickExcluding: (_key, excluded) => nodes.find((n) => !excluded.has(n)) ?? nodes[0],
    release: (node) => released.push(node.id),
    expectedLatencyMs: (node) => latency.get(node) ?? 0,
    latencyPercentile: (percentile) => percentiles.get(percentile),
  };
  const hedgeBudget = new HedgeBudget();
  const executor = new CallExecutor(
    'test',
    { retries: 0, timeoutMs: undefined, deadlineMs: undefined, ...defaults },
    {
      clock,
      selector,
      hedgeBudget,
      retryBudget: undefined,
      accounting: {
        started: (node) => node.inFlight++,
        finished: (node, outcome, latencyMs) => {
          node.inFlight--;
          log.push({ node: node.id, outcome, latencyMs });
        },
      },
    },
  );
  return { clock, nodes, log, released, latency, percentiles, executor, hedgeBudget };
}

/** A try that settles only when the test says so, recording its signal and context. */
function controlled() {
  const tries: Array<{
    node: string;
    signal: AbortSignal;
    context: TryContext;
    resolve: (v: string) => void;
    reject: (e: Error) => void;
  }> = [];
  const fn = (node: UpstreamNode, signal: AbortSignal, context: TryContext) =>
    new Promise<string>((resolve, reject) => tries.push({ node: node.id, signal, context, resolve, reject }));
  return { tries, fn };
}

const settleTime = async <T>(promise: Promise<T>, clock: ManualClock) => {
  let at: number | undefined;
  void promise.then(
    () => (at = clock.now()),
    () => (at = clock.now()),
  );
  return {
    get at() {
      return at;
    },
  };
};

describe('deadlines (issue 16 item 1)', () => {
  it('bounds the whole call: tries get min(timeoutMs, time left) and the call rejects with DeadlineExceededError at the deadline', async () => {
    const { clock, executor, log } = setup();
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { retries: 5, timeoutMs: 400, deadlineMs: 1_000 });
    const settled = await settleTime(call, clock);
    clock.advance(400); // first try times out at 400
    await Promise.resolve();
    clock.advance(400); // second try at 800
    await Promise.resolve();
    expect(tries).toHaveLength(3);
    expect(tries.map((t) => t.context.remainingMs)).toEqual([1_000, 600, 200]);
    clock.advance(199);
    await Promise.resolve();
    expect(settled.at).toBeUndefined();
    clock.advance(1);
    const error = await call.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DeadlineExceededError);
    expect(error).toMatchObject({ name: 'DeadlineExceededError', deadlineMs: 1_000, tries: 3 });
    expect((error as Error).message).toMatch(/1000 ms deadline.*Raise "deadlineMs"/);
    expect(settled.at).toBe(1_000);
    // fn's signal fires at the deadline, with the deadline error as its reason.
    expect(tries[2].signal.aborted).toBe(true);
    expect(tries[2].signal.reason).toBe(error);
    expect(log.map((l) => [l.outcome, l.latencyMs])).toEqual([
      ['failure', 400],
      ['failure', 400],
      ['failure', 200],
    ]);
  });

  it('rejects at the deadline even when fn ignores its signal and never settles', async () => {
    const { clock, executor, nodes } = setup();
    const call = executor.execute(() => new Promise<never>(() => undefined), { deadlineMs: 50 });
    const settled = await settleTime(call, clock);
    clock.advance(50);
    await expect(call).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(settled.at).toBe(50);
    expect(nodes.every((n) => n.inFlight === 0)).toBe(true);
  });

  it('starts no retry when the time left is below the next node latency estimate, and rejects with the real failure', async () => {
    const { clock, executor, latency, nodes } = setup();
    latency.set(nodes[1], 300);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { retries: 3, deadlineMs: 1_000 });
    clock.advance(800);
    tries[0].reject(new Error('upstream said no'));
    await expect(call).rejects.toThrow('upstream said no');
    expect(tries).toHaveLength(1);
    expect(clock.now()).toBe(800);
  });

  it('retries while the time left covers the next node estimate', async () => {
    const { clock, executor, latency, nodes } = setup();
    latency.set(nodes[1], 150);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { retries: 3, deadlineMs: 1_000 });
    clock.advance(800);
    tries[0].reject(new Error('first'));
    await Promise.resolve();
    expect(tries).toHaveLength(2);
    expect(tries[1].context).toEqual({ attempt: 1, hedge: false, remainingMs: 200 });
    tries[1].resolve('second');
    await expect(call).resolves.toBe('second');
  });

  it('uses the balancer default deadline, and a per-call deadline overrides it', async () => {
    const { clock, executor } = setup({ deadlineMs: 100 });
    const defaulted = executor.execute(() => new Promise<never>(() => undefined), {});
    const overridden = executor.execute(() => new Promise<never>(() => undefined), { deadlineMs: 300 });
    const a = await settleTime(defaulted, clock);
    const b = await settleTime(overridden, clock);
    clock.advance(100);
    await expect(defaulted).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(a.at).toBe(100);
    expect(b.at).toBeUndefined();
    clock.advance(200);
    await expect(overridden).rejects.toBeInstanceOf(DeadlineExceededError);
    expect(b.at).toBe(300);
  });

  it('keeps a per-try timeout shorter than the time left, and reports TryTimeoutError when retries run out first', async () => {
    const { clock, executor } = setup();
    const call = executor.execute(() => new Promise<never>(() => undefined), { timeoutMs: 100, deadlineMs: 1_000 });
    clock.advance(100);
    await expect(call).rejects.toBeInstanceOf(TryTimeoutError);
  });

  it('a caller abort before the deadline still wins, and leaves no timer behind', async () => {
    const { clock, executor } = setup();
    const controller = new AbortController();
    const call = executor.execute(() => new Promise<never>(() => undefined), {
      deadlineMs: 1_000,
      signal: controller.signal,
    });
    controller.abort(new Error('caller gave up'));
    await expect(call).rejects.toThrow('caller gave up');
    clock.advance(2_000);
    expect(clock.pending).toBe(0);
  });
});
