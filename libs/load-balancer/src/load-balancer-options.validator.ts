import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import {
  DUPLICATE_NODE,
  EMPTY_WITHOUT_DISCOVERY,
  INVALID_NODE,
  INVALID_OPTION,
  UNKNOWN_STRATEGY,
} from './load-balancer.messages.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

/** A node config with defaults applied. */
export interface ResolvedNodeConfig {
  id: string;
  host: string;
  port: number;
  weight: number;
  metadata?: Record<string, unknown>;
}

/** Checks a node config and applies defaults; throws naming the node. */
export function resolveNodeConfig(balancer: string, config: NodeConfig, index?: number): ResolvedNodeConfig {
  const label = index === undefined ? JSON.stringify(config?.id ?? config) : `#${index} (${JSON.stringify(config)})`;
  const fail = (problem: string) => new InvalidLoadBalancerOptionsError(INVALID_NODE(balancer, label, problem));
  if (config === null || typeof config !== 'object')
    throw fail('a node must be an object { id?, host, port, weight? }');
  if (typeof config.host !== 'string' || config.host.length === 0) throw fail('"host" must be a non-empty string');
  if (!Number.isInteger(config.port) || config.port < 1 || config.port > 65_535) {
    throw fail(`"port" must be an integer from 1 to 65535, got ${String(config.port)}`);
  }
  const weight = config.weight ?? 1;
  if (typeof weight !== 'number' || !Number.isFinite(weight) || weight < 0) {
    throw fail(`"weight" must be a finite number >= 0, got ${String(weight)}`);
  }
  if (config.id !== undefined && (typeof config.id !== 'string' || config.id.length === 0)) {
    throw fail('"id" must be a non-empty string when given');
  }
  const resolved: ResolvedNodeConfig = {
    id: config.id ?? `${config.host}:${config.port}`,
    host: config.host,
    port: config.port,
    weight,
  };
  if (config.metadata !== undefined) resolved.metadata = config.metadata;
  return resolved;
}

/** Boot-time validation of a whole options object; returns the resolved initial nodes. */
export function validateLoadBalancerOptions(balancer: string, options: LoadBalancerOptions): ResolvedNodeConfig[] {
  const invalid = (option: string, problem: string) =>
    new InvalidLoadBalancerOptionsError(INVALID_OPTION(balancer, option, problem));
  if (options === null || typeof options !== 'object') throw invalid('(options)', 'options must be an object');
  if (options.nodes !== undefined && !Array.isArray(options.nodes)) throw invalid('nodes', 'must be an array');
  if (options.nodes === undefined && options.discovery === undefined) {
    throw new InvalidLoadBalancerOptionsError(EMPTY_WITHOUT_DISCOVERY(balancer));
  }
  const nodes = (options.nodes ?? []).map((node, i) => resolveNodeConfig(balancer, node, i));
  const seen = new Set<string>();
  for (const node of nodes) {
    if (seen.has(node.id)) throw new InvalidLoadBalancerOptionsError(DUPLICATE_NODE(balancer, node.id));
    seen.add(node.id);
  }
  const strategy = options.strategy ?? 'p2c-ewma';
  const isBuiltin = typeof strategy === 'string' && Object.hasOwn(BUILTIN_STRATEGIES, strategy);
  const isClass = typeof strategy === 'function' && strategy.prototype instanceof LoadBalancingStrategy;
  if (!isBuiltin && !isClass) throw new InvalidLoadBalancerOptionsError(UNKNOWN_STRATEGY(balancer, strategy));
  nonNegativeInteger(options.retries, 'retries', invalid);
  positive(options.timeoutMs, 'timeoutMs', invalid);
  positive(options.decayMs, 'decayMs', invalid);
  nonNegative(options.initialLatencyMs, 'initialLatencyMs', invalid);
  nonNegative(options.errorPenalty, 'errorPenalty', invalid);
  if (options.panicThreshold !== undefined && !(options.panicThreshold >= 0 && options.panicThreshold <= 1)) {
    throw invalid('panicThreshold', 'must be a number from 0 to 1');
  }
  const outlier = options.outlierDetection;
  if (outlier) {
    positiveInteger(outlier.consecutiveFailures, 'outlierDetection.consecutiveFailures', invalid);
    ratio(outlier.errorRateThreshold, 'outlierDetection.errorRateThreshold', invalid);
    nonNegative(outlier.minRequests, 'outlierDetection.minRequests', invalid);
    positive(outlier.baseEjectionMs, 'outlierDetection.baseEjectionMs', invalid);
    positive(outlier.maxEjectionMs, 'outlierDetection.maxEjectionMs', invalid);
    nonNegative(outlier.jitter, 'outlierDetection.jitter', invalid);
    if (
      outlier.maxEjectionPercent !== undefined &&
      !(outlier.maxEjectionPercent >= 0 && outlier.maxEjectionPercent <= 100)
    ) {
      throw invalid('outlierDetection.maxEjectionPercent', 'must be a number from 0 to 100');
    }
    positive(outlier.probeTimeoutMs, 'outlierDetection.probeTimeoutMs', invalid);
  }
  if (options.slowStart) {
    positive(options.slowStart.windowMs, 'slowStart.windowMs', invalid);
    ratio(options.slowStart.minFactor, 'slowStart.minFactor', invalid);
  }
  if (options.retryBudget) {
    nonNegative(options.retryBudget.ratio, 'retryBudget.ratio', invalid);
    nonNegative(options.retryBudget.minPerSecond, 'retryBudget.minPerSecond', invalid);
    positive(options.retryBudget.maxTokens, 'retryBudget.maxTokens', invalid);
  }
  if (options.healthCheck) {
    positive(options.healthCheck.intervalMs, 'healthCheck.intervalMs', invalid);
    positive(options.healthCheck.timeoutMs, 'healthCheck.timeoutMs', invalid);
    positiveInteger(options.healthCheck.healthyThreshold, 'healthCheck.healthyThreshold', invalid);
    positiveInteger(options.healthCheck.unhealthyThreshold, 'healthCheck.unhealthyThreshold', invalid);
  }
  return nodes;
}

type Invalid = (option: string, problem: string) => Error;

function positive(value: number | undefined, option: string, invalid: Invalid): void {
  if (value !== undefined && !(typeof value === 'number' && value > 0 && Number.isFinite(value))) {
    throw invalid(option, `must be a finite number > 0, got ${String(value)}`);
  }
}

function nonNegative(value: number | undefined, option: string, invalid: Invalid): void {
  if (value !== undefined && !(typeof value === 'number' && value >= 0 && Number.isFinite(value))) {
    throw invalid(option, `must be a finite number >= 0, got ${String(value)}`);
  }
}

function ratio(value: number | undefined, option: string, invalid: Invalid): void {
  if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= 1)) {
    throw invalid(option, `must be a number from 0 to 1, got ${String(value)}`);
  }
}

function nonNegativeInteger(value: number | undefined, option: string, invalid: Invalid): void {
  if (value !== undefined && !(Number.isInteger(value) && value >= 0)) {
    throw invalid(option, `must be an integer >= 0, got ${String(value)}`);
  }
}

function positiveInteger(value: number | undefined, option: string, invalid: Invalid): void {
  if (value !== undefined && !(Number.isInteger(value) && value > 0)) {
    throw invalid(option, `must be an integer > 0, got ${String(value)}`);
  }
}
