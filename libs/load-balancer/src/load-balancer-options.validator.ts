import type { DnsDiscoveryOptions } from './discovery/dns-discovery.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import type { LoadBalancedHttpClientOptions } from './interfaces/http-client-options.interface.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import {
  DUPLICATE_NODE,
  EMPTY_WITHOUT_DISCOVERY,
  FIX_ADD_NODE,
  FIX_DISCOVERED_NODE,
  FIX_DNS_DISCOVERY,
  FIX_NODE,
  FIX_OPTION,
  UNKNOWN_OPTION,
  UNKNOWN_STRATEGY,
} from './load-balancer.messages.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';
import didYouMean from 'didyoumean2';
import { checkHeaders, Checker, describeValue, MANAGED_HEADERS, RULES, TYPO } from './validation/value-rules.js';

/** The keys of each options object, so a misspelled one fails instead of being ignored. */
const NODE_KEYS = ['id', 'host', 'port', 'weight', 'metadata', 'zone'];
const OUTLIER_KEYS = [
  'consecutiveFailures',
  'errorRateThreshold',
  'minRequests',
  'baseEjectionMs',
  'maxEjectionMs',
  'jitter',
  'maxEjectionPercent',
  'probeTimeoutMs',
];
const SLOW_START_KEYS = ['windowMs', 'minFactor'];
const RETRY_BUDGET_KEYS = ['ratio', 'minPerSecond', 'maxTokens'];
const LOCALITY_KEYS = ['zone', 'minHealthyShare', 'minHealthyNodes'];
const HEALTH_CHECK_KEYS = ['path', 'intervalMs', 'timeoutMs', 'healthyThreshold', 'unhealthyThreshold', 'checker'];
const HTTP_KEYS = [
  'protocol',
  'connections',
  'timeoutMs',
  'maxResponseBytes',
  'loadReportHeader',
  'deadlineMs',
  'deadlineHeader',
  'retries',
  'headers',
  'connectTimeoutMs',
];
const DNS_DISCOVERY_KEYS = ['hostname', 'port', 'weight', 'refreshIntervalMs'];

/**
 * The lib's one validation path: boot-time options here, call-time arguments in `ArgumentValidator`, both with the
 * shared rules of `validation/value-rules.ts`.
 */
export { ArgumentValidator } from './validation/argument-validator.js';
export { describeValue, MAX_TIMER_MS } from './validation/value-rules.js';

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
  // A discovery provider may pass a registry's extra fields through; a node the user wrote may not misspell one.
  if (source.kind !== 'discovery') check.knownKeys(config, path, NODE_KEYS);
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

/** Every key of `LoadBalancerOptions`, and `name` (forRoot's named instances). */
const OPTION_KEYS: readonly (keyof LoadBalancerOptions | 'name')[] = [
  'name',
  'nodes',
  'strategy',
  'retries',
  'timeoutMs',
  'deadlineMs',
  'retryBudget',
  'outlierDetection',
  'slowStart',
  'panicThreshold',
  'decayMs',
  'initialLatencyMs',
  'errorPenalty',
  'locality',
  'healthCheck',
  'discovery',
  'http',
  'clock',
  'random',
];

/** A misspelled option would otherwise be ignored: fail on it, suggesting the nearest known key. */
function rejectUnknownKeys(balancer: string, options: object): void {
  for (const key of Object.keys(options)) {
    if ((OPTION_KEYS as readonly string[]).includes(key)) continue;
    throw new InvalidLoadBalancerOptionsError(
      UNKNOWN_OPTION(balancer, key, didYouMean(key, [...OPTION_KEYS], TYPO) ?? undefined, OPTION_KEYS),
    );
  }
}

/** Boot-time validation of a whole options object; returns the resolved initial nodes. */
export function validateLoadBalancerOptions(balancer: string, options: LoadBalancerOptions): ResolvedNodeConfig[] {
  const check = new Checker(InvalidLoadBalancerOptionsError, FIX_OPTION(balancer));
  check.required(options, '(options)', RULES.object);
  rejectUnknownKeys(balancer, options);
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
    check.knownKeys(outlier, 'outlierDetection', OUTLIER_KEYS);
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
    check.knownKeys(slowStart, 'slowStart', SLOW_START_KEYS);
    check.optional(slowStart.windowMs, 'slowStart.windowMs', RULES.durationMs);
    check.optional(slowStart.minFactor, 'slowStart.minFactor', RULES.ratio);
  }
  const budget = options.retryBudget;
  if (budget !== undefined && budget !== false) {
    check.required(budget, 'retryBudget', RULES.object);
    check.knownKeys(budget, 'retryBudget', RETRY_BUDGET_KEYS);
    check.optional(budget.ratio, 'retryBudget.ratio', RULES.nonNegative);
    check.optional(budget.minPerSecond, 'retryBudget.minPerSecond', RULES.nonNegative);
    check.optional(budget.maxTokens, 'retryBudget.maxTokens', RULES.positive);
  }
  const locality = options.locality;
  if (locality !== undefined) {
    check.required(locality, 'locality', RULES.object);
    check.knownKeys(locality, 'locality', LOCALITY_KEYS);
    check.required(locality.zone, 'locality.zone', RULES.nonEmptyString);
    check.optional(locality.minHealthyShare, 'locality.minHealthyShare', RULES.ratio);
    check.optional(locality.minHealthyNodes, 'locality.minHealthyNodes', RULES.positiveCount);
  }
  const health = options.healthCheck;
  if (health !== undefined && health !== false) {
    check.required(health, 'healthCheck', RULES.object);
    check.knownKeys(health, 'healthCheck', HEALTH_CHECK_KEYS);
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
  check.knownKeys(options, 'DnsDiscovery(options)', DNS_DISCOVERY_KEYS);
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
  check.knownKeys(options, path, HTTP_KEYS);
  check.optional(options.protocol, `${path}.protocol`, RULES.protocol);
  check.optional(options.connections, `${path}.connections`, RULES.positiveCount);
  check.optional(options.timeoutMs, `${path}.timeoutMs`, RULES.timerMs);
  check.optional(options.retries, `${path}.retries`, RULES.count);
  check.optional(options.connectTimeoutMs, `${path}.connectTimeoutMs`, RULES.timerMs);
  check.optional(options.deadlineMs, `${path}.deadlineMs`, RULES.timerMs);
  check.optional(options.maxResponseBytes, `${path}.maxResponseBytes`, RULES.positiveCount);
  check.optional(options.loadReportHeader, `${path}.loadReportHeader`, RULES.token);
  if (options.deadlineHeader !== undefined && options.deadlineHeader !== false) {
    check.required(options.deadlineHeader, `${path}.deadlineHeader`, RULES.token);
    if (MANAGED_HEADERS.has(options.deadlineHeader.toLowerCase())) {
      throw check.fail(`${path}.deadlineHeader`, 'a header the client does not frame itself', options.deadlineHeader);
    }
  }
  if (options.headers !== undefined) checkHeaders(check, options.headers, `${path}.headers`);
}
