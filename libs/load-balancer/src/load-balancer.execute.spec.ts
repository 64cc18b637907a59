import { ManualClock } from './clock/manual-clock.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { NoAvailableNodeError } from './errors/no-available-node.error.js';
import { TryTimeoutError } from './errors/try-timeout.error.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import { seededRandom } from './random/random-source.js';

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

describe('execute', () => {
  it('resolves to the result and tracks in-flight, latency and outcome', async () => {
    const { clock, lb, inFlight } = setup();
    let release!: (v: number) => void;
    const call = lb.execute((node, signal) => {
      expect(signal.aborted).toBe(false);
      expect(node).toMatchObject({ host: '127.0.0.1', weight: 1 });
      return new Promise<number>((r) => (release = r));
    });
    expect(inFlight()).toBe(1);
    clock.advance(250);
    release(42);
    await expect(call).resolves.toBe(42);
    expect(inFlight()).toBe(0);
    const used = lb.nodes().find((n) => n.requests === 1)!;
    expect(used.latencyMs).toBe(250);
    expect(used.failures).toBe(0);
  });

  it('never leaks in-flight on a synchronous throw, a rejection, a timeout or a caller abort', async () => {
    const { clock, lb, inFlight } = setup({ outlierDetection: false });
    await expect(
      lb.execute(() => {
        throw new Error('sync');
      }),
    ).rejects.toThrow('sync');
    await expect(lb.execute(async () => Promise.reject(new Error('async')))).rejects.toThrow('async');

    let seen: AbortSignal | undefined;
    const timed = lb.execute(
      (_node, signal) => {
        seen = signal;
        return new Promise(() => undefined); // ignores its signal and never settles
      },
      { timeoutMs: 1_000 },
    );
    clock.advance(1_000);
    const timeout = await timed.catch((e: unknown) => e);
    expect(timeout).toBeInstanceOf(TryTimeoutError);
    expect(seen!.aborted).toBe(true);
    expect(seen!.reason).toBe(timeout);

    const controller = new AbortController();
    const aborted = lb.execute(() => new Promise(() => undefined), { signal: controller.signal, retries: 2 });
    controller.abort(new Error('caller gave up'));
    await expect(aborted).rejects.toThrow('caller gave up');
    expect(inFlight()).toBe(0);
    // Three failures were recorded (sync throw, rejection, timeout); the caller abort was not the node's fault.
    expect(lb.nodes().reduce((sum, n) => sum + n.failures, 0)).toBe(3);
  });

  it('retries on nodes not yet tried', async () => {
    const { lb } = setup({}, 4);
    const tried: string[] = [];
    const result = await lb.execute(
      (node) => {
        tried.push(node.id);
        if (tried.length < 4) throw new Error(`fail on ${node.id}`);
        return node.id;
      },
      { retries: 3 },
    );
    expect(new Set(tried).size).toBe(4);
    expect(result).toBe(tried[3]);
  });

  it('retries on a tried node only when no untried one is left, and rejects with the last error', async () => {
    const { lb } = setup({ outlierDetection: false }, 2);
    const tried: string[] = [];
    const error = await lb
      .execute(
        (node) => {
          tried.push(node.id);
          throw new Error(`fail ${tried.length}`);
        },
        { retries: 3 },
      )
      .catch((e: unknown) => e);
    expect((error as Error).message).toBe('fail 4');
    expect(new Set(tried.slice(0, 2)).size).toBe(2);
    expect(tried).toHaveLength(4);
  });

  it('does not retry what retryOn refuses', async () => {
    const { lb } = setup();
    let calls = 0;
    await expect(
      lb.execute(
        () => {
          calls++;
          throw new Error('bad request');
        },
        { retries: 3, retryOn: () => false },
      ),
    ).rejects.toThrow('bad request');
    expect(calls).toBe(1);
  });

  it('stops retrying when the retry budget is spent', async () => {
    const { clock, lb, inFlight } = setup(
      { outlierDetection: false, retryBudget: { ratio: 0.5, minPerSecond: 0, maxTokens: 10 } },
      3,
    );
    let calls = 0;
    const failing = () =>
      lb
        .execute(
          () => {
            calls++;
            throw new Error('down');
          },
          { retries: 2 },
        )
        .catch(() => undefined);
    // Bucket starts empty (minPerSecond 0): the first call deposits 0.5 and cannot retry.
    await failing();
    expect(calls).toBe(1);
    // The second deposit makes one token: one retry.
    await failing();
    expect(calls).toBe(3);
    // In an outage, 10 calls with retries: 2 make ~10 × (1 + 0.5) tries, not 30.
    calls = 0;
    for (let i = 0; i < 10; i++) await failing();
    expect(calls).toBe(15);
    expect(inFlight()).toBe(0);
    clock.advance(60_000);
    expect(lb.retryBudgetAvailable).toBe(0);
  });

  it('rejects with NoAvailableNodeError unwrapped when there is no node', async () => {
    const lb = new LoadBalancer({ nodes: [] });
    const error = await lb.execute(() => 1).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoAvailableNodeError);
    expect((error as Error).name).toBe('NoAvailableNodeError');
    expect(() => lb.pick()).toThrow(/has no nodes/);
  });
});

describe('membership', () => {
  it('keeps given ids, defaults the rest to host:port', () => {
    const lb = new LoadBalancer({
      nodes: [
        { id: 'Primary DB', host: 'a', port: 1 },
        { host: 'b', port: 2, weight: 3 },
      ],
    });
    expect(lb.nodes().map(({ id, host, port, weight }) => ({ id, host, port, weight }))).toEqual([
      { id: 'Primary DB', host: 'a', port: 1, weight: 1 },
      { id: 'b:2', host: 'b', port: 2, weight: 3 },
    ]);
  });

  it('drains a removed node: no new picks, removal once its in-flight requests finish', async () => {
    const { lb } = setup({}, 2);
    let release!: () => void;
    const held = lb.execute((node) => new Promise<string>((r) => (release = () => r(node.id))));
    const busy = lb.nodes().find((n) => n.inFlight === 1)!.id;
    let removed = false;
    const removal = lb.removeNode(busy).then((v) => (removed = v));
    await Promise.resolve();
    expect(removed).toBe(false);
    expect(lb.nodes().find((n) => n.id === busy)!.state).toBe('draining');
    expect(new Set(Array.from({ length: 10 }, () => lb.pick().id))).toEqual(
      new Set(
        lb
          .nodes()
          .filter((n) => n.id !== busy)
          .map((n) => n.id),
      ),
    );
    release();
    await expect(held).resolves.toBe(busy);
    await removal;
    expect(removed).toBe(true);
    expect(lb.nodes().map((n) => n.id)).not.toContain(busy);
    await expect(lb.removeNode('nope')).resolves.toBe(false);
  });

  it('adds nodes at run time with slow start, and rejects bad or duplicate ones naming the node', () => {
    const { lb } = setup({ slowStart: { windowMs: 10_000, minFactor: 0.1 } }, 2);
    const added = lb.addNode({ id: 'n9', host: '127.0.0.1', port: 9009 });
    expect(added).toMatchObject({ id: 'n9', state: 'healthy', slowStartFactor: 0.1 });
    expect(() => lb.addNode({ id: 'n9', host: 'x', port: 1 })).toThrow(/Duplicate node id "n9"/);
    expect(() => lb.addNode({ id: 'bad', host: 'x', port: 70_000 })).toThrow(
      /`addNode\(config\)\.port` must be an integer from 1 to 65535; got 70000\. .*node "bad"/,
    );
  });

  it('reports outcomes of plain picks', () => {
    const { lb } = setup();
    const node = lb.pick();
    expect(lb.report(node.id, { latencyMs: 120, error: false })).toBe(true);
    expect(lb.report('unknown', { latencyMs: 1 })).toBe(false);
    expect(lb.nodes().find((n) => n.id === node.id)).toMatchObject({ requests: 1, latencyMs: 120 });
  });
});

const make = (options: LoadBalancerOptions) => () => new LoadBalancer({ name: 'orders', ...options });

describe('options validation', () => {
  it.each([
    [
      {
        nodes: [
          { id: 'x', host: 'h', port: 1 },
          { id: 'x', host: 'h', port: 2 },
        ],
      },
      /Duplicate node id "x" in load balancer "orders"/,
    ],
    [
      { nodes: [{ id: 'api-1', host: 'h', port: 0 }] },
      /`nodes\[0\]\.port` must be an integer from 1 to 65535; got 0\. Fix node "api-1"/,
    ],
    [
      { nodes: [{ id: 'api-2', host: 'h', port: 80, weight: -1 }] },
      /`nodes\[0\]\.weight` must be a finite number from 0 to 1000000; got -1\. Fix node "api-2"/,
    ],
    [{ nodes: [{ host: '', port: 80 }] }, /`nodes\[0\]\.host` must be a non-empty string; got ""/],
    [{}, /empty node list and no discovery provider/],
    [{ nodes: [], strategy: 'fastest' as never }, /Unknown strategy "fastest"/],
    [
      { nodes: [], retries: -1 },
      /`retries` must be an integer from 0 to 2147483647; got -1\. .*load balancer "orders"/,
    ],
    [{ nodes: [], panicThreshold: 2 }, /`panicThreshold` must be a number from 0 to 1; got 2\./],
  ])('rejects %j', (options, message) => {
    expect(make(options as LoadBalancerOptions)).toThrow(InvalidLoadBalancerOptionsError);
    expect(make(options as LoadBalancerOptions)).toThrow(message);
  });

  it('accepts an explicitly empty list for nodes added at run time', () => {
    const lb = new LoadBalancer({ nodes: [] });
    lb.addNode({ host: 'h', port: 1 });
    expect(lb.pick().id).toBe('h:1');
  });
});

const flush = () => new Promise((resolve) => setImmediate(resolve));

describe('removing a draining node again (defect 23)', () => {
  it('defect 23: a second removeNode() of a draining node settles both calls when the drain completes', async () => {
    const { lb } = setup({}, 2);
    let release!: () => void;
    const held = lb.execute((node) => new Promise<string>((r) => (release = () => r(node.id))));
    const busy = lb.nodes().find((n) => n.inFlight === 1)!.id;
    const settled: string[] = [];
    const first = lb.removeNode(busy).then((v) => settled.push(`first:${v}`));
    const second = lb.removeNode(busy).then((v) => settled.push(`second:${v}`));
    await Promise.resolve();
    expect(settled).toEqual([]);
    release();
    await held;
    await flush();
    // Asserted without awaiting `first`, so a call left pending fails here instead of timing out.
    expect(settled.toSorted()).toEqual(['first:true', 'second:true']);
    await Promise.all([first, second]);
    expect(lb.nodes().map((n) => n.id)).not.toContain(busy);
  });

  it('defect 23: the earlier drain deadline of two removeNode() calls removes the node and settles both', async () => {
    const { clock, lb } = setup({}, 2);
    void lb.execute(() => new Promise<never>(() => undefined)); // never settles
    const busy = lb.nodes().find((n) => n.inFlight === 1)!.id;
    const settled: string[] = [];
    const first = lb.removeNode(busy, { drainTimeoutMs: 10_000 }).then((v) => settled.push(`first:${v}`));
    const second = lb.removeNode(busy, { drainTimeoutMs: 1_000 }).then((v) => settled.push(`second:${v}`));
    clock.advance(999);
    await flush();
    expect(settled).toEqual([]);
    clock.advance(1);
    await flush();
    expect(settled.toSorted()).toEqual(['first:true', 'second:true']);
    await Promise.all([first, second]);
    expect(lb.nodes().map((n) => n.id)).not.toContain(busy);
  });
});

describe('report() input (defect 24)', () => {
  it('defect 24: report() with a NaN latency is rejected naming latencyMs, and the node keeps getting picks', () => {
    const { lb } = setup({ strategy: 'p2c-ewma' }, 3);
    expect(() => lb.report('n1', { latencyMs: Number.NaN })).toThrow(InvalidLoadBalancerArgumentError);
    expect(() => lb.report('n1', { latencyMs: Number.NaN })).toThrow(/`report\(outcome\)\.latencyMs`.*got NaN/);
    for (const id of ['n0', 'n1', 'n2']) lb.report(id, { latencyMs: 10 });
    const picks = Array.from({ length: 3_000 }, () => lb.pick().id).filter((id) => id === 'n1').length;
    expect(picks).toBeGreaterThan(500);
    for (const node of lb.nodes()) expect(Number.isFinite(node.healthScore)).toBe(true);
  });

  it.each([
    ['Infinity', { latencyMs: Number.POSITIVE_INFINITY }, /latencyMs/],
    ['negative', { latencyMs: -5 }, /latencyMs/],
    ['a string', { latencyMs: '12' }, /latencyMs/],
    ['missing', {}, /latencyMs/],
    ['over the timer bound', { latencyMs: 2 ** 31 }, /latencyMs/],
    ['a string error flag', { latencyMs: 1, error: 'false' }, /`report\(outcome\)\.error`/],
    ['a numeric error flag', { latencyMs: 1, error: 0 }, /`report\(outcome\)\.error`/],
    ['no outcome at all', undefined, /`report\(outcome\)`/],
  ])('defect 24: report() rejects %s clearly and records nothing', (_label, outcome, message) => {
    const { lb } = setup();
    expect(() => lb.report('n0', outcome as never)).toThrow(message);
    expect(lb.nodes().find((n) => n.id === 'n0')!.requests).toBe(0);
  });

  it('defect 24: report() rejects an id that is not a string; an unknown string id returns false', () => {
    const { lb } = setup();
    expect(() => lb.report(42 as never, { latencyMs: 1 })).toThrow(/`report\(nodeId\)` must be a non-empty string/);
    expect(lb.report('gone', { latencyMs: 1 })).toBe(false);
    expect(lb.report('n0', { latencyMs: 1, error: new Error('boom') })).toBe(true);
    expect(lb.report('n0', { latencyMs: 0, error: null })).toBe(true);
    expect(lb.nodes().find((n) => n.id === 'n0')).toMatchObject({ requests: 2, failures: 1 });
  });
});

describe('drain deadline of a probing node (found by the state-machine property)', () => {
  it('keeps the drainTimeoutMs deadline when the half-open probe on the draining node is aborted', async () => {
    const { clock, lb } = setup({ outlierDetection: { jitter: 0, baseEjectionMs: 1_000 }, slowStart: false }, 3);
    const state = (id: string) => lb.nodes().find((n) => n.id === id);
    // A long call on n0 while it is healthy, then n0 is ejected and becomes probing.
    let held: Promise<unknown> | undefined;
    while (held === undefined) {
      const call = lb.execute(() => new Promise(() => undefined));
      if (state('n0')!.inFlight === 1) held = call;
    }
    for (let i = 0; i < 5; i++) lb.report('n0', { latencyMs: 1, error: true });
    clock.advance(1_000);
    expect(state('n0')!.state).toBe('probing');
    // The next pick of n0 is its probe; abort it after n0 started draining.
    const controller = new AbortController();
    for (let i = 0; i < 3 && state('n0')!.inFlight < 2; i++) {
      void lb.execute(() => new Promise(() => undefined), { signal: controller.signal }).catch(() => undefined);
    }
    expect(state('n0')!.inFlight).toBe(2);
    let removed: boolean | undefined;
    void lb.removeNode('n0', { drainTimeoutMs: 5_000 }).then((r) => (removed = r));
    controller.abort(new Error('caller gave up'));
    await flush();
    clock.advance(5_000);
    await flush();
    expect(removed).toBe(true);
    expect(state('n0')).toBeUndefined();
  });
});
