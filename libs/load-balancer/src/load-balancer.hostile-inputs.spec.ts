import { ManualClock } from './clock/manual-clock.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import type { BuiltinStrategyName } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import { seededRandom } from './random/random-source.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';

const STRATEGIES = Object.keys(BUILTIN_STRATEGIES) as BuiltinStrategyName[];

function balancer(strategy: BuiltinStrategyName = 'round-robin') {
  return new LoadBalancer({
    name: 'orders',
    nodes: [0, 1, 2].map((i) => ({ id: `n${i}`, host: '127.0.0.1', port: 9000 + i })),
    strategy,
    clock: new ManualClock(),
    random: seededRandom(5),
  });
}
const totals = (lb: LoadBalancer) =>
  lb.nodes().reduce((sum, n) => ({ inFlight: sum.inFlight + n.inFlight, requests: sum.requests + n.requests }), {
    inFlight: 0,
    requests: 0,
  });

describe('hostile inputs: pick(key)', () => {
  const oddKeys = ['', '\u0000', '\uD800', '__proto__', 'constructor', 'x'.repeat(1_000_000), '🙂'.repeat(50)];

  it.each(STRATEGIES)(
    '%s: odd string keys pick a member, and the same key the same node with consistent-hash',
    (strategy) => {
      const lb = balancer(strategy);
      const ids = new Set(lb.nodes().map((n) => n.id));
      for (const key of oddKeys) {
        const first = lb.pick(key);
        expect(ids.has(first.id)).toBe(true);
        const sticky = strategy !== 'consistent-hash' || lb.pick(key) === first;
        expect(sticky).toBe(true);
      }
    },
  );

  it.each([42, null, {}, ['k'], Symbol('k')])('rejects the non-string key %s naming pick(key)', (key) => {
    const lb = balancer('consistent-hash');
    expect(() => lb.pick(key as never)).toThrow(InvalidLoadBalancerArgumentError);
    expect(() => lb.pick(key as never)).toThrow(
      /^`pick\(key\)` must be a string or undefined; got .+\. Fix the argument of pick\(\) on load balancer "orders"\./,
    );
  });
});

describe('hostile inputs: execute(fn, options)', () => {
  it.each([
    ['fn not a function', 'not a function', {}, /`execute\(fn\)` must be a function; got "not a function"/],
    ['options null', () => 1, null, /`execute\(options\)` must be an object; got null/],
    ['retries NaN', () => 1, { retries: Number.NaN }, /`execute\(options\)\.retries` must be an integer from 0/],
    ['retries -1', () => 1, { retries: -1 }, /`execute\(options\)\.retries`/],
    ['retries 1.5', () => 1, { retries: 1.5 }, /`execute\(options\)\.retries`.*got 1\.5/],
    ['retries Infinity', () => 1, { retries: Number.POSITIVE_INFINITY }, /`execute\(options\)\.retries`.*got Infinity/],
    ['timeoutMs 0', () => 1, { timeoutMs: 0 }, /`execute\(options\)\.timeoutMs`.*got 0\./],
    ['timeoutMs NaN', () => 1, { timeoutMs: Number.NaN }, /`execute\(options\)\.timeoutMs`.*got NaN/],
    ['key a number', () => 1, { key: 7 }, /`execute\(options\)\.key` must be a string or undefined; got 7/],
    ['signal a string', () => 1, { signal: 'stop' }, /`execute\(options\)\.signal` must be an AbortSignal/],
    ['retryOn a boolean', () => 1, { retryOn: true }, /`execute\(options\)\.retryOn` must be a function; got true/],
  ])('rejects %s before any try, tracking nothing', async (_label, fn, options, message) => {
    const lb = balancer();
    const error = await lb.execute(fn as never, options as never).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLoadBalancerArgumentError);
    expect((error as Error).message).toMatch(message);
    expect(totals(lb)).toEqual({ inFlight: 0, requests: 0 });
  });

  it('a fn that returns a non-promise value or throws a non-Error is tracked and settled', async () => {
    const lb = balancer();
    await expect(lb.execute(() => undefined)).resolves.toBeUndefined();
    await expect(
      lb.execute(() => {
        throw 'plain string';
      }),
    ).rejects.toBe('plain string');
    expect(totals(lb)).toEqual({ inFlight: 0, requests: 2 });
  });
});

describe('hostile inputs: addNode(config)', () => {
  it.each([
    [null, /`addNode\(config\)` must be an object; got null/],
    [{ host: 5, port: 1 }, /`addNode\(config\)\.host` must be a non-empty string; got 5/],
    [{ host: 'h', port: '80' }, /`addNode\(config\)\.port` must be an integer from 1 to 65535; got "80"/],
    [{ host: 'h', port: Number.NaN }, /`addNode\(config\)\.port`.*got NaN/],
    [{ host: 'h', port: 1, weight: Number.POSITIVE_INFINITY }, /`addNode\(config\)\.weight`.*got Infinity/],
    [{ host: 'h', port: 1, weight: 1e12 }, /`addNode\(config\)\.weight` must be a finite number from 0 to 1000000/],
    [{ id: '', host: 'h', port: 1 }, /`addNode\(config\)\.id` must be a non-empty string; got ""/],
    [{ id: 7, host: 'h', port: 1 }, /`addNode\(config\)\.id`.*got 7/],
    [{ host: 'h', port: 1, metadata: [] }, /`addNode\(config\)\.metadata` must be an object; got \[\]/],
  ])('rejects %j with InvalidLoadBalancerOptionsError and leaves membership alone', (config, message) => {
    const lb = balancer();
    expect(() => lb.addNode(config as never)).toThrow(InvalidLoadBalancerOptionsError);
    expect(() => lb.addNode(config as never)).toThrow(message);
    expect(lb.nodes().map((n) => n.id)).toEqual(['n0', 'n1', 'n2']);
  });
});

describe('hostile inputs: removeNode(id, options)', () => {
  it('resolves false for unknown ids, including ones that look like object keys', async () => {
    const lb = balancer();
    for (const id of ['nope', '__proto__', 'constructor', 'toString', ' n0']) {
      await expect(lb.removeNode(id)).resolves.toBe(false);
    }
    expect(lb.nodes().map((n) => n.id)).toEqual(['n0', 'n1', 'n2']);
  });

  it.each([
    [42, {}, /`removeNode\(id\)` must be a non-empty string; got 42/],
    ['', {}, /`removeNode\(id\)` must be a non-empty string; got ""/],
    ['n0', null, /`removeNode\(options\)` must be an object; got null/],
    ['n0', { drainTimeoutMs: -1 }, /`removeNode\(options\)\.drainTimeoutMs`.*got -1\./],
    ['n0', { drainTimeoutMs: Number.NaN }, /`removeNode\(options\)\.drainTimeoutMs`.*got NaN/],
    ['n0', { drainTimeoutMs: 2.5 }, /`removeNode\(options\)\.drainTimeoutMs`.*got 2\.5/],
  ])('rejects removeNode(%j, %j) without touching the node', async (id, options, message) => {
    const lb = balancer();
    await expect(lb.removeNode(id as never, options as never)).rejects.toThrow(message);
    await expect(lb.removeNode(id as never, options as never)).rejects.toBeInstanceOf(InvalidLoadBalancerArgumentError);
    expect(lb.nodes().map((n) => n.state)).toEqual(['healthy', 'healthy', 'healthy']);
  });
});
