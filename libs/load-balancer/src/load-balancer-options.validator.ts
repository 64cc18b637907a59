import type { DnsDiscoveryOptions } from './discovery/dns-discovery.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import type { ExecuteOptions, HedgeOptions, ReportOutcome } from './interfaces/execute-options.interface.js';
import type { LoadBalancedHttpClientOptions } from './interfaces/http-client-options.interface.js';
import type { LoadBalancedRequestOptions } from './interfaces/http-request-options.interface.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import {
  DUPLICATE_NODE,
  EMPTY_WITHOUT_DISCOVERY,
  FIX_ADD_NODE,
  FIX_CALL,
  FIX_DISCOVERED_NODE,
  FIX_DNS_DISCOVERY,
  FIX_NODE,
  FIX_OPTION,
  INVALID_VALUE,
  UNKNOWN_STRATEGY,
} from './load-balancer.messages.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

/** Node fires a timer of 2^31 ms or more after about 1 ms, so no timer option may exceed this. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Counts (retries, thresholds, connections) share the timer bound: past it they mean "forever" anyway. */
const MAX_COUNT = 2_147_483_647;
/** Keeps the sum of weights finite for the cumulative tables of weighted strategies. */
const MAX_WEIGHT = 1_000_000;

/** One accepted shape of a value, with the words the error message uses for it. */
interface Rule {
  readonly expectation: string;
  readonly test: (value: unknown) => boolean;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const integerIn = (min: number, max: number, expectation: string): Rule => ({
  expectation,
  test: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
});
const numberIn = (min: number, max: number, expectation: string, exclusiveMin = false): Rule => ({
  expectation,
  test: (v) => isNumber(v) && (exclusiveMin ? v > min : v >= min) && v <= max,
});

/** The shared bounds, by meaning. Every numeric option and argument of the lib is checked with one of these. */
const RULES = {
  /** Passed to a timer. */
  timerMs: integerIn(
    1,
    MAX_TIMER_MS,
    `an integer number of milliseconds from 1 to ${MAX_TIMER_MS} (the largest timer Node runs)`,
  ),
  timerOrZeroMs: integerIn(
    0,
    MAX_TIMER_MS,
    `an integer number of milliseconds from 0 to ${MAX_TIMER_MS} (the largest timer Node runs)`,
  ),
  /** Only used in arithmetic (decay constants, ramps): fractions make sense. */
  durationMs: numberIn(0, MAX_TIMER_MS, `a finite number of milliseconds > 0 and <= ${MAX_TIMER_MS}`, true),
  latencyMs: numberIn(0, MAX_TIMER_MS, `a finite number of milliseconds from 0 to ${MAX_TIMER_MS}`),
  count: integerIn(0, MAX_COUNT, `an integer from 0 to ${MAX_COUNT}`),
  positiveCount: integerIn(1, MAX_COUNT, `an integer from 1 to ${MAX_COUNT}`),
  ratio: numberIn(0, 1, 'a number from 0 to 1'),
  percentile: numberIn(1, 99.9, 'a number from 1 to 99.9 (a percentile)'),
  percent: numberIn(0, 100, 'a number from 0 to 100'),
  nonNegative: numberIn(0, Number.MAX_VALUE, 'a finite number >= 0'),
  positive: numberIn(0, Number.MAX_VALUE, 'a finite number > 0', true),
  errorPenalty: numberIn(0, 1_000_000, 'a number from 0 to 1000000'),
  weight: numberIn(0, MAX_WEIGHT, `a finite number from 0 to ${MAX_WEIGHT}`),
  port: integerIn(1, 65_535, 'an integer from 1 to 65535'),
  nonEmptyString: { expectation: 'a non-empty string', test: (v) => typeof v === 'string' && v.length > 0 },
  object: { expectation: 'an object', test: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) },
  array: { expectation: 'an array', test: Array.isArray },
  function: { expectation: 'a function', test: (v) => typeof v === 'function' },
  boolean: { expectation: 'true or false', test: (v) => typeof v === 'boolean' },
  protocol: { expectation: '"http" or "https"', test: (v) => v === 'http' || v === 'https' },
  // Duck-typed, so an AbortSignal from a polyfill or another realm is accepted too.
  signal: {
    expectation: 'an AbortSignal',
    test: (v) =>
      v !== null &&
      typeof v === 'object' &&
      typeof (v as AbortSignal).aborted === 'boolean' &&
      typeof (v as AbortSignal).addEventListener === 'function',
  },
  // Strings and numbers are refused: `'false'` and `0` would otherwise be read as their truthiness.
  errorFlag: {
    expectation: 'a boolean, null, or the error (an object)',
    test: (v) => v === null || typeof v === 'boolean' || typeof v === 'object',
  },
  path: {
    expectation: 'a string of printable characters without spaces (percent-encode the rest)',
    test: (v) => typeof v === 'string' && !/[^\u0021-\u00ff]/.test(v),
  },
  token: {
    expectation: "an HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
    test: (v) => typeof v === 'string' && /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/.test(v),
  },
  headerValue: {
    expectation: 'a string without control characters (no CR, LF or NUL)',
    test: (v) => typeof v === 'string' && !/[^\t\x20-\x7e\x80-\xff]/.test(v),
  },
  queryValue: {
    expectation: 'a string, a finite number or a boolean',
    test: (v) => typeof v === 'string' || typeof v === 'boolean' || isNumber(v),
  },
} satisfies Record<string, Rule>;

/** Headers the client manages itself; a caller value would conflict with the framing undici computes. */
const MANAGED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
]);

type ErrorClass = new (message: string) => Error;

/** Checks values against rules and throws `errorClass` with the shared message shape, ending in `fix`. */
class Checker {
  constructor(
    private readonly errorClass: ErrorClass,
    private readonly fix: string,
  ) {}

  optional(value: unknown, path: string, rule: Rule): void {
    if (value !== undefined && !rule.test(value)) throw this.fail(path, rule.expectation, value);
  }

  required(value: unknown, path: string, rule: Rule): void {
    if (!rule.test(value)) throw this.fail(path, rule.expectation, value);
  }

  fail(path: string, expectation: string, value: unknown): Error {
    return new this.errorClass(INVALID_VALUE(path, expectation, describeValue(value), this.fix));
  }
}

/** A value as the message shows it: JSON where it has one, else `String()`; long values cut. */
export function describeValue(value: unknown): string {
  let text: string | undefined;
  if (typeof value === 'function') text = `a function${value.name ? ` ${value.name}` : ''}`;
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'symbol') text = String(value);
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    text ??= String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

/** A node config with defaults applied. */
export interface ResolvedNodeConfig {
  id: string;
  host: string;
  port: number;
  weight: number;
  metadata?: Record<string, unknown>;
  zone?: string;
}

/** Where a node config comes from, for the error message. */
export type NodeSource =
  { kind: 'options'; index: number } | { kind: 'addNode' } | { kind: 'discovery'; index: number };

/** Checks a node config and applies defaults; throws `InvalidLoadBalancerOptionsError` naming the node. */
export function resolveNodeConfig(balancer: string, config: NodeConfig, source: NodeSource): ResolvedNodeConfig {
  const label = nodeLabel(config);
  const path =
    source.kind === 'options'
      ? `nodes[${source.index}]`
      : source.kind === 'addNode'
        ? 'addNode(config)'
        : `discovery.resolve()[${source.index}]`;
  const fix =
    source.kind === 'options'
      ? FIX_NODE(balancer, label)
      : source.kind === 'addNode'
        ? FIX_ADD_NODE(balancer, label)
        : FIX_DISCOVERED_NODE(balancer, label);
  const check = new Checker(InvalidLoadBalancerOptionsError, fix);
  check.required(config, path, RULES.object);
  check.required(config.host, `${path}.host`, RULES.nonEmptyString);
  check.required(config.port, `${path}.port`, RULES.port);
  check.optional(config.weight, `${path}.weight`, RULES.weight);
  check.optional(config.id, `${path}.id`, RULES.nonEmptyString);
  check.optional(config.metadata, `${path}.metadata`, RULES.object);
  check.optional(config.zone, `${path}.zone`, RULES.nonEmptyString);
  const resolved: ResolvedNodeConfig = {
    id: config.id ?? `${config.host}:${config.port}`,
    host: config.host,
    port: config.port,
    weight: config.weight ?? 1,
  };
  if (config.metadata !== undefined) resolved.metadata = config.metadata;
  if (config.zone !== undefined) resolved.zone = config.zone;
  return resolved;
}

function nodeLabel(config: unknown): string {
  const id = (config as { id?: unknown } | null)?.id;
  return typeof id === 'string' ? JSON.stringify(id) : describeValue(config);
}

/** Boot-time validation of a whole options object; returns the resolved initial nodes. */
export function validateLoadBalancerOptions(balancer: string, options: LoadBalancerOptions): ResolvedNodeConfig[] {
  const check = new Checker(InvalidLoadBalancerOptionsError, FIX_OPTION(balancer));
  check.required(options, '(options)', RULES.object);
  check.optional((options as { name?: unknown }).name, 'name', RULES.nonEmptyString);
  check.optional(options.nodes, 'nodes', RULES.array);
  if (options.nodes === undefined && options.discovery === undefined) {
    throw new InvalidLoadBalancerOptionsError(EMPTY_WITHOUT_DISCOVERY(balancer));
  }
  const nodes = (options.nodes ?? []).map((node, index) =>
    resolveNodeConfig(balancer, node, { kind: 'options', index }),
  );
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.id)) throw new InvalidLoadBalancerOptionsError(DUPLICATE_NODE(balancer, node.id));
    seen.add(node.id);
  }
  const strategy = options.strategy ?? 'p2c-ewma';
  const isBuiltin = typeof strategy === 'string' && Object.hasOwn(BUILTIN_STRATEGIES, strategy);
  const isClass = typeof strategy === 'function' && strategy.prototype instanceof LoadBalancingStrategy;
  if (!isBuiltin && !isClass) throw new InvalidLoadBalancerOptionsError(UNKNOWN_STRATEGY(balancer, strategy));

  check.optional(options.retries, 'retries', RULES.count);
  check.optional(options.timeoutMs, 'timeoutMs', RULES.timerMs);
  check.optional(options.deadlineMs, 'deadlineMs', RULES.timerMs);
  check.optional(options.decayMs, 'decayMs', RULES.durationMs);
  check.optional(options.initialLatencyMs, 'initialLatencyMs', RULES.latencyMs);
  check.optional(options.errorPenalty, 'errorPenalty', RULES.errorPenalty);
  check.optional(options.panicThreshold, 'panicThreshold', RULES.ratio);
  check.optional(options.random, 'random', RULES.function);
  if (options.clock !== undefined) {
    check.required(options.clock, 'clock', RULES.object);
    for (const method of ['now', 'setTimeout', 'clearTimeout'] as const) {
      check.required(options.clock[method], `clock.${method}`, RULES.function);
    }
  }
  const outlier = options.outlierDetection;
  if (outlier !== undefined && outlier !== false) {
    check.required(outlier, 'outlierDetection', RULES.object);
    check.optional(outlier.consecutiveFailures, 'outlierDetection.consecutiveFailures', RULES.positiveCount);
    check.optional(outlier.errorRateThreshold, 'outlierDetection.errorRateThreshold', RULES.ratio);
    check.optional(outlier.minRequests, 'outlierDetection.minRequests', RULES.nonNegative);
    check.optional(outlier.baseEjectionMs, 'outlierDetection.baseEjectionMs', RULES.timerMs);
    check.optional(outlier.maxEjectionMs, 'outlierDetection.maxEjectionMs', RULES.timerMs);
    check.optional(outlier.jitter, 'outlierDetection.jitter', RULES.nonNegative);
    check.optional(outlier.maxEjectionPercent, 'outlierDetection.maxEjectionPercent', RULES.percent);
    check.optional(outlier.probeTimeoutMs, 'outlierDetection.probeTimeoutMs', RULES.timerMs);
  }
  const slowStart = options.slowStart;
  if (slowStart !== undefined && slowStart !== false) {
    check.required(slowStart, 'slowStart', RULES.object);
    check.optional(slowStart.windowMs, 'slowStart.windowMs', RULES.durationMs);
    check.optional(slowStart.minFactor, 'slowStart.minFactor', RULES.ratio);
  }
  const budget = options.retryBudget;
  if (budget !== undefined && budget !== false) {
    check.required(budget, 'retryBudget', RULES.object);
    check.optional(budget.ratio, 'retryBudget.ratio', RULES.nonNegative);
    check.optional(budget.minPerSecond, 'retryBudget.minPerSecond', RULES.nonNegative);
    check.optional(budget.maxTokens, 'retryBudget.maxTokens', RULES.positive);
  }
  const locality = options.locality;
  if (locality !== undefined) {
    check.required(locality, 'locality', RULES.object);
    check.required(locality.zone, 'locality.zone', RULES.nonEmptyString);
    check.optional(locality.minHealthyShare, 'locality.minHealthyShare', RULES.ratio);
    check.optional(locality.minHealthyNodes, 'locality.minHealthyNodes', RULES.positiveCount);
  }
  const health = options.healthCheck;
  if (health !== undefined && health !== false) {
    check.required(health, 'healthCheck', RULES.object);
    check.optional(health.path, 'healthCheck.path', RULES.path);
    check.optional(health.intervalMs, 'healthCheck.intervalMs', RULES.timerMs);
    check.optional(health.timeoutMs, 'healthCheck.timeoutMs', RULES.timerMs);
    check.optional(health.healthyThreshold, 'healthCheck.healthyThreshold', RULES.positiveCount);
    check.optional(health.unhealthyThreshold, 'healthCheck.unhealthyThreshold', RULES.positiveCount);
    const checker = health.checker;
    if (checker !== undefined && typeof checker !== 'function') {
      check.required(checker, 'healthCheck.checker', RULES.object);
      check.required(checker.check, 'healthCheck.checker.check', RULES.function);
    }
  }
  if (options.discovery !== undefined) {
    check.required(options.discovery, 'discovery', RULES.object);
    check.required(options.discovery.resolve, 'discovery.resolve', RULES.function);
    check.required(options.discovery.refreshIntervalMs, 'discovery.refreshIntervalMs', RULES.timerMs);
  }
  if (options.http !== undefined) validateHttpClientOptions(balancer, options.http, 'http');
  return nodes;
}

/** Options of a `DnsDiscovery`, checked when it is constructed. */
export function validateDnsDiscoveryOptions(options: DnsDiscoveryOptions): void {
  const check = new Checker(InvalidLoadBalancerOptionsError, FIX_DNS_DISCOVERY);
  check.required(options, 'DnsDiscovery(options)', RULES.object);
  check.required(options.hostname, 'DnsDiscovery(options).hostname', RULES.nonEmptyString);
  check.required(options.port, 'DnsDiscovery(options).port', RULES.port);
  check.optional(options.weight, 'DnsDiscovery(options).weight', RULES.weight);
  check.optional(options.refreshIntervalMs, 'DnsDiscovery(options).refreshIntervalMs', RULES.timerMs);
}

/** Options of a `LoadBalancedHttpClient`, checked at boot (as `http`) or when a client is constructed directly. */
export function validateHttpClientOptions(
  balancer: string,
  options: LoadBalancedHttpClientOptions,
  path = 'LoadBalancedHttpClient(options)',
): void {
  const check = new Checker(InvalidLoadBalancerOptionsError, FIX_OPTION(balancer));
  check.required(options, path, RULES.object);
  check.optional(options.protocol, `${path}.protocol`, RULES.protocol);
  check.optional(options.connections, `${path}.connections`, RULES.positiveCount);
  check.optional(options.timeoutMs, `${path}.timeoutMs`, RULES.timerMs);
  check.optional(options.retries, `${path}.retries`, RULES.count);
  check.optional(options.connectTimeoutMs, `${path}.connectTimeoutMs`, RULES.timerMs);
  check.optional(options.deadlineMs, `${path}.deadlineMs`, RULES.timerMs);
  if (options.deadlineHeader !== undefined && options.deadlineHeader !== false) {
    check.required(options.deadlineHeader, `${path}.deadlineHeader`, RULES.token);
    if (MANAGED_HEADERS.has(options.deadlineHeader.toLowerCase())) {
      throw check.fail(`${path}.deadlineHeader`, 'a header the client does not frame itself', options.deadlineHeader);
    }
  }
  if (options.headers !== undefined) checkHeaders(check, options.headers, `${path}.headers`);
}

function checkHeaders(check: Checker, headers: unknown, path: string): void {
  check.required(headers, path, RULES.object);
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    check.required(name, `${path} name ${JSON.stringify(name)}`, RULES.token);
    if (MANAGED_HEADERS.has(name.toLowerCase())) {
      throw check.fail(`${path}[${JSON.stringify(name)}]`, 'left to the client (it frames the request itself)', value);
    }
    check.required(value, `${path}[${JSON.stringify(name)}]`, RULES.headerValue);
  }
}

/** A hedge policy: exactly one of `delayMs` / `percentile`, and only on a call marked idempotent. */
function checkHedge(check: Checker, hedge: HedgeOptions, idempotent: unknown, path: string): void {
  check.required(hedge, `${path}.hedge`, RULES.object);
  if (idempotent !== true) {
    throw check.fail(
      `${path}.idempotent`,
      'true when `hedge` is set (a hedge sends the same call to two nodes at once, so it must be safe to repeat)',
      idempotent,
    );
  }
  check.optional(hedge.delayMs, `${path}.hedge.delayMs`, RULES.timerOrZeroMs);
  check.optional(hedge.percentile, `${path}.hedge.percentile`, RULES.percentile);
  if ((hedge.delayMs === undefined) === (hedge.percentile === undefined)) {
    throw check.fail(`${path}.hedge`, 'given exactly one of `delayMs` and `percentile`', hedge);
  }
  check.optional(hedge.maxExtra, `${path}.hedge.maxExtra`, RULES.positiveCount);
  check.optional(hedge.budget, `${path}.hedge.budget`, RULES.ratio);
}

/**
 * Call-time argument checks of one balancer. Built once per balancer so a valid call allocates nothing; each check
 * throws `InvalidLoadBalancerArgumentError` in the shared message shape.
 */
export class ArgumentValidator {
  private readonly pickCheck: Checker;
  private readonly executeCheck: Checker;
  private readonly reportCheck: Checker;
  private readonly removeCheck: Checker;
  private readonly requestCheck: Checker;

  constructor(balancer: string) {
    const checker = (call: string) => new Checker(InvalidLoadBalancerArgumentError, FIX_CALL(balancer, call));
    this.pickCheck = checker('pick()');
    this.executeCheck = checker('execute()');
    this.reportCheck = checker('report()');
    this.removeCheck = checker('removeNode()');
    this.requestCheck = checker('LoadBalancedHttpClient.request()');
  }

  /** A routing key must be a string or undefined (`pick` calls this only for a key that is not a string). */
  routingKey(key: unknown, path = 'pick(key)'): void {
    if (key !== undefined && typeof key !== 'string') throw this.pickCheck.fail(path, 'a string or undefined', key);
  }

  execute(fn: unknown, options: ExecuteOptions): void {
    const check = this.executeCheck;
    check.required(fn, 'execute(fn)', RULES.function);
    check.required(options, 'execute(options)', RULES.object);
    this.routingKey(options.key, 'execute(options).key');
    check.optional(options.retries, 'execute(options).retries', RULES.count);
    check.optional(options.timeoutMs, 'execute(options).timeoutMs', RULES.timerMs);
    check.optional(options.deadlineMs, 'execute(options).deadlineMs', RULES.timerMs);
    check.optional(options.retryOn, 'execute(options).retryOn', RULES.function);
    check.optional(options.signal, 'execute(options).signal', RULES.signal);
    check.optional(options.idempotent, 'execute(options).idempotent', RULES.boolean);
    if (options.hedge !== undefined) checkHedge(check, options.hedge, options.idempotent, 'execute(options)');
  }

  report(nodeId: unknown, outcome: ReportOutcome): void {
    const check = this.reportCheck;
    check.required(nodeId, 'report(nodeId)', RULES.nonEmptyString);
    check.required(outcome, 'report(outcome)', RULES.object);
    check.required(outcome.latencyMs, 'report(outcome).latencyMs', RULES.latencyMs);
    check.optional(outcome.error, 'report(outcome).error', RULES.errorFlag);
  }

  removeNode(id: unknown, options: unknown): void {
    const check = this.removeCheck;
    check.required(id, 'removeNode(id)', RULES.nonEmptyString);
    check.required(options, 'removeNode(options)', RULES.object);
    const drainTimeoutMs = (options as { drainTimeoutMs?: unknown }).drainTimeoutMs;
    check.optional(drainTimeoutMs, 'removeNode(options).drainTimeoutMs', RULES.timerOrZeroMs);
  }

  /** Everything undici would refuse inside the balanced try (where it would count against a healthy node). */
  request(path: unknown, options: LoadBalancedRequestOptions): void {
    const check = this.requestCheck;
    check.required(path, 'request(path)', RULES.path);
    check.required(options, 'request(options)', RULES.object);
    check.optional(options.method, 'request(options).method', RULES.token);
    if (options.headers !== undefined) checkHeaders(check, options.headers, 'request(options).headers');
    if (options.query !== undefined) {
      check.required(options.query, 'request(options).query', RULES.object);
      for (const [name, value] of Object.entries(options.query)) {
        check.required(value, `request(options).query[${JSON.stringify(name)}]`, RULES.queryValue);
      }
    }
    const body: unknown = options.body;
    if (typeof body === 'function' || typeof body === 'symbol') {
      throw check.fail('request(options).body', 'a string, bytes, or a JSON-serializable value', body);
    }
    this.routingKey(options.key, 'request(options).key');
    check.optional(options.retries, 'request(options).retries', RULES.count);
    check.optional(options.timeoutMs, 'request(options).timeoutMs', RULES.timerMs);
    check.optional(options.deadlineMs, 'request(options).deadlineMs', RULES.timerMs);
    check.optional(options.idempotent, 'request(options).idempotent', RULES.boolean);
    check.optional(options.signal, 'request(options).signal', RULES.signal);
  }

  /** JSON of an object body, or a clear error for a value `JSON.stringify` refuses (BigInt, cycles). */
  jsonBody(body: unknown): string {
    let json: string | undefined;
    let problem = 'it serializes to nothing';
    try {
      json = JSON.stringify(body) as string | undefined;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (json === undefined) {
      throw this.requestCheck.fail('request(options).body', `a JSON-serializable value (${problem})`, body);
    }
    return json;
  }
}
