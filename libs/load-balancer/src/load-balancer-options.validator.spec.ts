import { Test } from '@nestjs/testing';
import { ManualClock } from './clock/manual-clock.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancerModule } from './load-balancer.module.js';
import { LoadBalancer } from './load-balancer.service.js';
import { describeValue, MAX_TIMER_MS } from './load-balancer-options.validator.js';

const TOO_LONG = 2 ** 31;

/** Bad values per kind of option; each must be rejected naming the option, the value and the balancer. */
const BAD: Record<string, unknown[]> = {
  timer: [Number.NaN, Number.POSITIVE_INFINITY, -1, 0, 1.5, TOO_LONG, 1e300, '100', null],
  duration: [Number.NaN, Number.POSITIVE_INFINITY, -1, 0, TOO_LONG, '100'],
  latency: [Number.NaN, Number.NEGATIVE_INFINITY, -1, TOO_LONG],
  count: [Number.NaN, Number.POSITIVE_INFINITY, -1, 1.5, TOO_LONG, '3'],
  positiveCount: [Number.NaN, Number.POSITIVE_INFINITY, 0, 1.5, TOO_LONG],
  ratio: [Number.NaN, Number.POSITIVE_INFINITY, -0.1, 1.5, '0.5'],
  percent: [Number.NaN, -1, 101],
  nonNegative: [Number.NaN, Number.POSITIVE_INFINITY, -1],
  positive: [Number.NaN, Number.POSITIVE_INFINITY, 0, -1],
  errorPenalty: [Number.NaN, Number.POSITIVE_INFINITY, -1, 1e7],
  weight: [Number.NaN, Number.POSITIVE_INFINITY, -1, 1e7, '2'],
  port: [Number.NaN, 0, 65_536, 80.5, '80'],
};

/** Every numeric option of the balancer, with its kind. */
const NUMERIC_OPTIONS: Array<[path: string, kind: keyof typeof BAD]> = [
  ['timeoutMs', 'timer'],
  ['retries', 'count'],
  ['decayMs', 'duration'],
  ['initialLatencyMs', 'latency'],
  ['errorPenalty', 'errorPenalty'],
  ['panicThreshold', 'ratio'],
  ['outlierDetection.consecutiveFailures', 'positiveCount'],
  ['outlierDetection.errorRateThreshold', 'ratio'],
  ['outlierDetection.minRequests', 'nonNegative'],
  ['outlierDetection.baseEjectionMs', 'timer'],
  ['outlierDetection.maxEjectionMs', 'timer'],
  ['outlierDetection.jitter', 'nonNegative'],
  ['outlierDetection.maxEjectionPercent', 'percent'],
  ['outlierDetection.probeTimeoutMs', 'timer'],
  ['slowStart.windowMs', 'duration'],
  ['slowStart.minFactor', 'ratio'],
  ['retryBudget.ratio', 'nonNegative'],
  ['retryBudget.minPerSecond', 'nonNegative'],
  ['retryBudget.maxTokens', 'positive'],
  ['healthCheck.intervalMs', 'timer'],
  ['healthCheck.timeoutMs', 'timer'],
  ['healthCheck.healthyThreshold', 'positiveCount'],
  ['healthCheck.unhealthyThreshold', 'positiveCount'],
  ['discovery.refreshIntervalMs', 'timer'],
  ['http.timeoutMs', 'timer'],
  ['http.connectTimeoutMs', 'timer'],
  ['http.retries', 'count'],
  ['http.connections', 'positiveCount'],
  ['nodes[0].port', 'port'],
  ['nodes[0].weight', 'weight'],
];

/** Options of balancer "orders" with `path` set to `value`. */
function optionsWith(path: string, value: unknown): LoadBalancerOptions & { name: string } {
  const options: Record<string, unknown> = {
    name: 'orders',
    nodes: [{ id: 'n0', host: 'h', port: 1 }],
    clock: new ManualClock(),
  };
  if (path.startsWith('discovery.')) options.discovery = { resolve: async () => [], refreshIntervalMs: value };
  else if (path.startsWith('nodes[0].')) (options.nodes as Array<Record<string, unknown>>)[0][path.slice(9)] = value;
  else if (path.includes('.')) {
    const [group, key] = path.split('.');
    options[group] = { [key]: value };
  } else options[path] = value;
  return options as unknown as LoadBalancerOptions & { name: string };
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe('option validation with the shared bounds (defect 26)', () => {
  const cases = NUMERIC_OPTIONS.flatMap(([path, kind]) => BAD[kind].map((value) => [path, value] as const));

  it.each(cases)('defect 26: `%s` = %s is rejected naming the option, the value and the balancer', (path, value) => {
    let error: unknown;
    try {
      expect(new LoadBalancer(optionsWith(path, value))).toBeUndefined();
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidLoadBalancerOptionsError);
    expect((error as Error).name).toBe('InvalidLoadBalancerOptionsError');
    expect((error as Error).message).toMatch(
      new RegExp(`^\`${escape(path)}\` must be .+; got ${escape(describeValue(value))}\\. .*load balancer "orders"`),
    );
  });

  it.each(NUMERIC_OPTIONS.filter(([, kind]) => kind === 'timer').map(([path]) => path))(
    'defect 26: `%s` accepts the largest timer Node honours (2147483647 ms)',
    (path) => {
      expect(() => new LoadBalancer(optionsWith(path, MAX_TIMER_MS))).not.toThrow();
    },
  );

  it('defect 26: timeoutMs and healthCheck.intervalMs of 2^31 ms fail the Nest boot naming the option', async () => {
    for (const [options, path] of [
      [{ timeoutMs: TOO_LONG }, 'timeoutMs'],
      [{ healthCheck: { intervalMs: TOO_LONG } }, 'healthCheck.intervalMs'],
    ] as const) {
      await expect(
        Test.createTestingModule({
          imports: [LoadBalancerModule.register({ name: 'catalog', nodes: [{ host: 'h', port: 1 }], ...options })],
        }).compile(),
      ).rejects.toThrow(
        new RegExp(
          `^\`${escape(path)}\` must be an integer number of milliseconds from 1 to 2147483647 \\(the largest timer Node runs\\); got 2147483648\\.`,
        ),
      );
    }
  });

  it('an unknown option key fails naming it, with the nearest known one when it looks like a typo', () => {
    const nodes = [{ id: 'n0', host: 'h', port: 1 }];
    const typo = () => new LoadBalancer({ nodes, timeoutMS: 100 } as never);
    expect(typo).toThrow(InvalidLoadBalancerOptionsError);
    expect(typo).toThrow(
      /Load balancer ".*" has no option "timeoutMS": did you mean "timeoutMs"\? Known options: name, /,
    );
    expect(() => new LoadBalancer({ nodes, outlierDetecton: false } as never)).toThrow(
      /did you mean "outlierDetection"/,
    );
    expect(() => new LoadBalancer({ nodes, upstreams: [] } as never)).toThrow(/no option "upstreams"\. Known options:/);
  });

  it.each([
    [
      { outlierDetection: { consecutiveFailure: 3 } },
      '`outlierDetection` has no key "consecutiveFailure": did you mean "consecutiveFailures"?',
    ],
    [{ slowStart: { window: 1_000 } }, '`slowStart` has no key "window": did you mean "windowMs"?'],
    [{ retryBudget: { ratio: 0.1, maxToken: 5 } }, '`retryBudget` has no key "maxToken": did you mean "maxTokens"?'],
    [{ locality: { zone: 'a', minHealthyShares: 0.5 } }, '`locality` has no key "minHealthyShares"'],
    [{ healthCheck: { interval: 1_000 } }, '`healthCheck` has no key "interval": did you mean "intervalMs"?'],
    [{ http: { maxResponseByte: 10 } }, '`http` has no key "maxResponseByte": did you mean "maxResponseBytes"?'],
    [
      { nodes: [{ id: 'n0', host: 'h', port: 1, wieght: 2 }] },
      '`nodes[0]` has no key "wieght": did you mean "weight"?',
    ],
  ])('a misspelled key inside an option object fails the boot naming it: %j', (options, message) => {
    const make = () => new LoadBalancer({ nodes: [{ id: 'n0', host: 'h', port: 1 }], ...options } as never);
    expect(make).toThrow(InvalidLoadBalancerOptionsError);
    expect(make).toThrow(message);
    expect(make).toThrow(/Known keys: .* A misspelled key would otherwise be ignored\./);
  });

  it('a misspelled argument key fails the call before any try, naming it', async () => {
    const lb = new LoadBalancer({
      nodes: [
        { id: 'n0', host: 'h', port: 1 },
        { id: 'n1', host: 'h', port: 2 },
      ],
    });
    let calls = 0;
    const fn = () => ++calls;
    const misspelled: Array<[object, string]> = [
      [{ timeotMs: 50 }, '`execute(options)` has no key "timeotMs": did you mean "timeoutMs"?'],
      [
        { idempotent: true, hedge: { percentile: 90, onSilent: false } },
        '`execute(options).hedge` has no key "onSilent": did you mean "onSilence"?',
      ],
    ];
    for (const [options, message] of misspelled) {
      const error = await lb.execute(fn, options as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidLoadBalancerArgumentError);
      expect((error as Error).message).toContain(message);
    }
    expect(() => lb.report('n0', { latencyMs: 5, failed: true } as never)).toThrow(
      '`report(outcome)` has no key "failed"',
    );
    await expect(lb.removeNode('n0', { drainTimeout: 10 } as never)).rejects.toThrow(/did you mean "drainTimeoutMs"/);
    expect(calls).toBe(0);
    expect(lb.nodes().map((n) => [n.id, n.requests])).toEqual([
      ['n0', 0],
      ['n1', 0],
    ]);
    // Keys inherited from a prototype are not the caller's: an options object made by a class is fine.
    class Options {
      declare readonly extra: number;
    }
    Object.defineProperty(Options.prototype, 'extra', { value: 1, enumerable: true });
    await expect(lb.execute(fn, new Options() as never)).resolves.toBe(1);
  });

  it('defect 26: execute({ timeoutMs: 2^31 }) rejects before any try, naming the argument', async () => {
    const lb = new LoadBalancer({ nodes: [{ id: 'n0', host: 'h', port: 1 }], clock: new ManualClock() });
    let calls = 0;
    const error = await lb.execute(() => calls++, { timeoutMs: TOO_LONG }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidLoadBalancerArgumentError);
    expect((error as Error).message).toMatch(/^`execute\(options\)\.timeoutMs` must be .*; got 2147483648\./);
    expect(calls).toBe(0);
  });

  it('defect 26: removeNode({ drainTimeoutMs: 2^31 }) rejects and keeps the node', async () => {
    const lb = new LoadBalancer({ nodes: [{ id: 'n0', host: 'h', port: 1 }], clock: new ManualClock() });
    await expect(lb.removeNode('n0', { drainTimeoutMs: TOO_LONG })).rejects.toThrow(
      /^`removeNode\(options\)\.drainTimeoutMs` must be an integer number of milliseconds from 0 to 2147483647 \(the largest timer Node runs\); got 2147483648\./,
    );
    expect(lb.nodes().map((n) => n.state)).toEqual(['healthy']);
  });

  it('rejects options that are not an object', () => {
    expect(() => new LoadBalancer(null as never)).toThrow(/^`\(options\)` must be an object; got null\./);
  });

  it.each([
    [{ clock: { now: () => 0 } }, /`clock\.setTimeout` must be a function/],
    [{ random: 0.5 }, /`random` must be a function; got 0\.5/],
    [{ discovery: { refreshIntervalMs: 1_000 } }, /`discovery\.resolve` must be a function/],
    [{ healthCheck: { checker: {} } }, /`healthCheck\.checker\.check` must be a function/],
    [{ healthCheck: { path: '/he alth' } }, /`healthCheck\.path` must be a string of printable characters/],
    [{ http: { protocol: 'ftp' } }, /`http\.protocol` must be "http" or "https"; got "ftp"/],
    [{ http: { headers: { 'x-a': 'a\r\nInjected: 1' } } }, /`http\.headers\["x-a"\]` must be a string without control/],
    [{ outlierDetection: 'on' }, /`outlierDetection` must be an object; got "on"/],
    [{ nodes: [{ id: 'n0', host: 'h', port: 1, metadata: 'zone-a' }] }, /`nodes\[0\]\.metadata` must be an object/],
    [{ nodes: [{ id: '', host: 'h', port: 1 }] }, /`nodes\[0\]\.id` must be a non-empty string; got ""/],
    [{ nodes: [null] }, /`nodes\[0\]` must be an object; got null/],
    [{ name: 42 }, /`name` must be a non-empty string; got 42/],
    [{ nodes: 'h:1' }, /`nodes` must be an array; got "h:1"/],
  ])('rejects ill-typed option %j clearly', (extra, message) => {
    const options = { name: 'orders', nodes: [{ id: 'n0', host: 'h', port: 1 }], ...extra };
    expect(() => new LoadBalancer(options as never)).toThrow(InvalidLoadBalancerOptionsError);
    expect(() => new LoadBalancer(options as never)).toThrow(message);
  });
});
