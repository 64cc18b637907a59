import { ManualClock } from '../clock/manual-clock.js';
import { UpstreamNode } from '../node/upstream-node.js';
import { CallExecutor } from './call-executor.js';
import type { TrySelector } from './call-run.js';
import { HedgeBudget } from './hedge-budget.js';
import type { TryContext, TryOutcome } from './running-try.js';

/** The executor alone, as in call-executor.spec.ts: round-robin picks, untried-first exclusion, an accounting log. */
function setup(size = 3) {
  const clock = new ManualClock();
  const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', 9000 + i, 1));
  const log: Array<{ node: string; outcome: TryOutcome; latencyMs: number }> = [];
  const percentiles = new Map<number, number>();
  const released: string[] = [];
  let next = 0;
  const selector: TrySelector = {
    pick: () => nodes[next++ % nodes.length],
    pickExcluding: (_key, excluded) => nodes.find((n) => !excluded.has(n)) ?? nodes[0],
    release: (node) => released.push(node.id),
    expectedLatencyMs: () => 0,
    latencyPercentile: (percentile) => percentiles.get(percentile),
  };
  const hedgeBudget = new HedgeBudget();
  const executor = new CallExecutor(
    'test',
    { retries: 0, timeoutMs: undefined, deadlineMs: undefined },
    {
      clock,
      selector,
      hedgeBudget,
      retryBudget: undefined,
      // As the balancer's accounting keeps them: in-flight counts, and a node's progress when it answers by itself.
      accounting: {
        started: (node) => {
          if (node.inFlight++ === 0) node.progressAt = clock.now();
        },
        finished: (node, outcome, latencyMs, _error, answered) => {
          node.inFlight--;
          if (answered) node.progressAt = clock.now();
          log.push({ node: node.id, outcome, latencyMs });
        },
      },
    },
  );
  return { clock, nodes, log, percentiles, released, executor, hedgeBudget };
}

interface Try {
  node: string;
  signal: AbortSignal;
  context: TryContext;
  resolve: (v: string) => void;
  reject: (e: Error) => void;
}

function controlled() {
  const tries: Try[] = [];
  const fn = (node: UpstreamNode, signal: AbortSignal, context: TryContext) =>
    new Promise<string>((resolve, reject) => tries.push({ node: node.id, signal, context, resolve, reject }));
  return { tries, fn };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

/**
 * Six calls started together, two per node (the fake selector picks n0, n1, n2 in turn), each hedged after 1 s at the
 * latest, with a balancer median latency of 100 ms.
 */
function sixCallsOnThreeNodes(onSilence?: boolean) {
  const env = setup();
  env.percentiles.set(50, 100); // the balancer's median: 100 ms
  const { tries, fn } = controlled();
  const hedge = onSilence === undefined ? { delayMs: 1_000 } : { delayMs: 1_000, onSilence };
  const calls = [0, 1, 2, 3, 4, 5].map(() => env.executor.execute(fn, { idempotent: true, hedge }));
  return { ...env, tries, calls };
}

describe('hedged requests (issue 16 item 2)', () => {
  it('after delayMs sends the call to another node; the first success wins and the slow try is aborted', async () => {
    const { clock, executor, hedgeBudget, log, nodes } = setup();
    hedgeBudget.deposit(5);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 100 } });
    clock.advance(99);
    expect(tries).toHaveLength(1);
    clock.advance(1);
    expect(tries).toHaveLength(2);
    expect(tries[1]).toMatchObject({ node: 'n1', context: { attempt: 1, hedge: true } });
    clock.advance(30);
    tries[1].resolve('from the hedge');
    await expect(call).resolves.toBe('from the hedge');
    expect(tries[0].signal.aborted).toBe(true);
    expect((tries[0].signal.reason as DOMException).name).toBe('AbortError');
    // The slow try ran longer than the winner: recorded as at least that slow, not as a failure.
    expect(log).toEqual([
      { node: 'n1', outcome: 'success', latencyMs: 30 },
      { node: 'n0', outcome: 'outlasted', latencyMs: 130 },
    ]);
    expect(nodes.every((n) => n.inFlight === 0)).toBe(true);
    expect(hedgeBudget.available).toBe(4.1);
  });

  it('a hedge that loses to the first try is cancelled and says nothing about its node', async () => {
    const { clock, executor, hedgeBudget, log } = setup();
    hedgeBudget.deposit(5);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 100 } });
    clock.advance(120);
    tries[0].resolve('first');
    await expect(call).resolves.toBe('first');
    expect(tries[1].signal.aborted).toBe(true);
    expect(log).toEqual([
      { node: 'n0', outcome: 'success', latencyMs: 120 },
      { node: 'n1', outcome: 'cancelled', latencyMs: 20 },
    ]);
  });

  it('hedges stay within the budget: 10 % of calls by default, none before traffic paid for them', async () => {
    const { clock, executor } = setup();
    const { tries, fn } = controlled();
    const calls: Promise<string>[] = [];
    for (let i = 0; i < 200; i++) {
      calls.push(executor.execute(fn, { idempotent: true, hedge: { delayMs: 10 } }));
      clock.advance(10);
    }
    const hedges = tries.filter((t) => t.context.hedge).length;
    expect(hedges).toBeGreaterThan(0);
    expect(hedges).toBeLessThanOrEqual(20);
    for (const t of tries) t.resolve('ok');
    await Promise.all(calls);
  });

  it('with percentile, waits for that percentile of the latencies, and does not hedge without samples', async () => {
    const { clock, executor, hedgeBudget, percentiles } = setup();
    hedgeBudget.deposit(5);
    const { tries, fn } = controlled();
    const unsampled = executor.execute(fn, { idempotent: true, hedge: { percentile: 95 } });
    clock.advance(10_000);
    expect(tries).toHaveLength(1);
    tries[0].resolve('slow but alone');
    await expect(unsampled).resolves.toBe('slow but alone');
    percentiles.set(95, 250);
    const sampled = executor.execute(fn, { idempotent: true, hedge: { percentile: 95, onSilence: false } });
    clock.advance(249);
    expect(tries).toHaveLength(2);
    clock.advance(1);
    expect(tries).toHaveLength(3);
    tries[2].resolve('hedged');
    await expect(sampled).resolves.toBe('hedged');
  });

  it('maxExtra bounds hedges per call, each on a node without a try of this call', async () => {
    const { clock, executor, hedgeBudget } = setup(4);
    hedgeBudget.deposit(10);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 50, maxExtra: 2 } });
    clock.advance(500);
    expect(tries.map((t) => t.node)).toEqual(['n0', 'n1', 'n2']);
    tries[2].resolve('third');
    await expect(call).resolves.toBe('third');
    expect(tries.slice(0, 2).every((t) => t.signal.aborted)).toBe(true);
  });

  it('sends no hedge when no other node is left, and gives the token back', async () => {
    const { clock, executor, hedgeBudget } = setup(1);
    hedgeBudget.deposit(1);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 10, budget: 0 } });
    clock.advance(100);
    expect(tries).toHaveLength(1);
    expect(hedgeBudget.available).toBe(1);
    tries[0].resolve('only');
    await call;
  });

  it('a failed try waits for the running hedge, which can still win', async () => {
    const { clock, executor, hedgeBudget } = setup();
    hedgeBudget.deposit(5);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 10 } });
    clock.advance(10);
    tries[0].reject(new Error('first failed'));
    await flush();
    tries[1].resolve('hedge answered');
    await expect(call).resolves.toBe('hedge answered');
  });

  it('schedules no hedge that would start after the deadline', async () => {
    const { clock, executor, hedgeBudget } = setup();
    hedgeBudget.deposit(5);
    const { tries, fn } = controlled();
    const call = executor.execute(fn, { idempotent: true, deadlineMs: 100, hedge: { delayMs: 100 } });
    clock.advance(100);
    await expect(call).rejects.toMatchObject({ name: 'DeadlineExceededError' });
    expect(tries).toHaveLength(1);
  });

  describe('a try whose node has gone silent (onSilence, the default)', () => {
    it('is hedged before its delay when its node answered none of its tries for 4 × latency / tries running', async () => {
      const { clock, hedgeBudget, tries, calls } = sixCallsOnThreeNodes();
      hedgeBudget.deposit(5);
      // Two calls per node. n1 and n2 answer theirs at 50 ms; n0 answers nothing.
      clock.advance(50);
      for (const other of tries.filter((t) => t.node !== 'n0')) other.resolve('ok');
      await flush();
      // The later call on n0 saw 2 tries running when it started: silent at 0 + 4 × 100 / 2 = 200 ms.
      clock.advance(149);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      clock.advance(1);
      expect(tries.filter((t) => t.context.hedge).map((t) => t.context.attempt)).toEqual([1]);
      // The first one saw only itself (4 × 100 / 1 = 400 ms); its check there finds n0 silent as well.
      clock.advance(199);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(1);
      clock.advance(1);
      const hedges = tries.filter((t) => t.context.hedge);
      expect(hedges.map((t) => t.node)).toEqual(['n1', 'n1']);
      for (const t of hedges) t.resolve('from the hedge');
      await expect(Promise.all(calls)).resolves.toEqual(['from the hedge', 'ok', 'ok', 'from the hedge', 'ok', 'ok']);
    });

    it('is not hedged early while its node keeps answering other tries', async () => {
      const { clock, hedgeBudget, tries, calls, nodes } = sixCallsOnThreeNodes();
      hedgeBudget.deposit(9);
      // Answers of other calls on every node every 150 ms (as the balancer's accounting records them): never the
      // 200 ms of silence (4 × 100 / 2) that would make a node silent.
      for (let k = 0; k < 6; k++) {
        clock.advance(150);
        for (const node of nodes) node.progressAt = clock.now();
      }
      clock.advance(99);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      clock.advance(1);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(6);
      for (const t of tries) t.resolve('ok');
      await Promise.all(calls);
    });

    it('keeps watching after a check finds the node answering, and hedges once it falls silent', async () => {
      const { clock, hedgeBudget, tries, calls, nodes } = sixCallsOnThreeNodes();
      hedgeBudget.deposit(9);
      // Every node answers once at 150 ms, then none answers again: the check due at 200 ms (4 × 100 / 2) finds
      // an answer 50 ms old and looks again at 150 + 200 = 350 ms, when every node is silent.
      clock.advance(150);
      for (const node of nodes) node.progressAt = clock.now();
      clock.advance(199);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      clock.advance(1);
      // The second call on each node (2 tries running when it started) is hedged now; the first ones at 400 ms.
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(3);
      clock.advance(50);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(6);
      for (const t of tries) t.resolve('ok');
      await Promise.all(calls);
    });

    it('with onSilence: false, waits for the delay whatever the node does', async () => {
      const { clock, hedgeBudget, tries, calls } = sixCallsOnThreeNodes(false);
      hedgeBudget.deposit(9);
      clock.advance(999);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      clock.advance(1);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(6);
      for (const t of tries) t.resolve('ok');
      await Promise.all(calls);
    });

    it('an early hedge the budget cannot pay for is tried again at the regular delay', async () => {
      const { clock, hedgeBudget, tries, calls } = sixCallsOnThreeNodes();
      // The six calls deposited 0.6 of a token: nothing to pay for the silence hedges (at 200 ms and 400 ms).
      clock.advance(500);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      hedgeBudget.deposit(1.4);
      clock.advance(499);
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(0);
      clock.advance(1);
      // Two tokens: the first two calls due get their hedge at the delay; the budget stops the rest.
      expect(tries.filter((t) => t.context.hedge)).toHaveLength(2);
      for (const t of tries) t.resolve('ok');
      await Promise.all(calls);
    });

    it('a watched hedge that fails leaves the next hedge due at the regular delay', async () => {
      const { clock, executor, hedgeBudget, percentiles } = setup(4);
      percentiles.set(50, 100);
      hedgeBudget.deposit(9);
      const { tries, fn } = controlled();
      const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 500, maxExtra: 2 } });
      // n0 is silent after 4 × 100 / 1 = 400 ms: the first hedge goes out then.
      clock.advance(400);
      expect(tries.map((t) => t.node)).toEqual(['n0', 'n1']);
      tries[1].reject(new Error('the hedge failed'));
      await flush();
      clock.advance(899 - 400);
      expect(tries).toHaveLength(2);
      clock.advance(1);
      expect(tries.map((t) => t.node)).toEqual(['n0', 'n1', 'n2']);
      tries[2].resolve('second hedge');
      await expect(call).resolves.toBe('second hedge');
    });

    it('without latency samples nothing is silent: only the delay applies', async () => {
      const { clock, executor, hedgeBudget } = setup();
      hedgeBudget.deposit(5);
      const { tries, fn } = controlled();
      const call = executor.execute(fn, { idempotent: true, hedge: { delayMs: 300 } });
      clock.advance(299);
      expect(tries).toHaveLength(1);
      clock.advance(1);
      expect(tries).toHaveLength(2);
      tries[0].resolve('ok');
      await call;
    });
  });
});
