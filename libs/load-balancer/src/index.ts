export { ManualClock } from './clock/manual-clock.js';
export { systemClock, type Clock, type TimerHandle } from './clock/clock.js';
export { InjectLoadBalancedHttpClient } from './decorators/inject-load-balanced-http-client.decorator.js';
export { InjectLoadBalancer } from './decorators/inject-load-balancer.decorator.js';
export { DnsDiscovery, type DnsDiscoveryOptions } from './discovery/dns-discovery.js';
export { NodeDiscovery } from './discovery/node-discovery.js';
export { StaticDiscovery } from './discovery/static-discovery.js';
export { DeadlineExceededError } from './errors/deadline-exceeded.error.js';
export { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
export { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
export { NoAvailableNodeError } from './errors/no-available-node.error.js';
export { ResponseTooLargeError } from './errors/response-too-large.error.js';
export { TryTimeoutError } from './errors/try-timeout.error.js';
export { UpstreamStatusError } from './errors/upstream-status.error.js';
export { HealthChecker } from './health-checks/health-checker.js';
export { HttpHealthChecker } from './health-checks/http-health-checker.js';
export { LoadBalancedHttpClient } from './http/load-balanced-http-client.js';
export { LoadBalancedHttpResponse } from './http/load-balanced-http-response.js';
export { LoadBalancedHttpStream } from './http/load-balanced-http-stream.js';
export type { ExecuteOptions, HedgeOptions, ReportOutcome } from './interfaces/execute-options.interface.js';
export type { LoadBalancedHttpClientOptions } from './interfaces/http-client-options.interface.js';
export type { LoadBalancedRequestOptions } from './interfaces/http-request-options.interface.js';
export type { EjectionReason, LoadBalancerEvents } from './interfaces/load-balancer-events.interface.js';
export type {
  BuiltinStrategyName,
  HealthCheckOptions,
  LoadBalancerOptions,
  LocalityOptions,
  NamedLoadBalancerOptions,
  OutlierDetectionOptions,
  RetryBudgetOptions,
  SlowStartOptions,
} from './interfaces/load-balancer-options.interface.js';
export type { NodeConfig } from './interfaces/node-config.interface.js';
export type { NodeSnapshot } from './interfaces/node-snapshot.interface.js';
export type { NodeState } from './interfaces/node-state.interface.js';
export { DEFAULT_LOAD_BALANCER_NAME } from './load-balancer.constants.js';
export { LoadBalancerModule, type NamedLoadBalancerAsyncOptions } from './load-balancer.module.js';
export { LoadBalancer, type RemoveNodeOptions } from './load-balancer.service.js';
export type { BalancedCall, TryContext } from './execution/running-try.js';
export { getLoadBalancedHttpClientToken, getLoadBalancerToken } from './load-balancer.tokens.js';
export { UpstreamNode } from './node/upstream-node.js';
export { seededRandom, type RandomSource } from './random/random-source.js';
export { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
export { ConsistentHashStrategy } from './strategies/consistent-hash.strategy.js';
export { LeastConnectionsStrategy } from './strategies/least-connections.strategy.js';
export { LoadBalancingStrategy, type NodeSet, type StrategyContext } from './strategies/load-balancing-strategy.js';
export { P2cEwmaStrategy } from './strategies/p2c-ewma.strategy.js';
export { RoundRobinStrategy } from './strategies/round-robin.strategy.js';
export { WeightedRandomStrategy } from './strategies/weighted-random.strategy.js';
export { WeightedRoundRobinStrategy } from './strategies/weighted-round-robin.strategy.js';
export {
  LoadBalancerHealthIndicator,
  type LoadBalancerHealthIndicatorResult,
  type LoadBalancerHealthOptions,
} from './health/load-balancer.health-indicator.js';
export { LOAD_BALANCER_PROMETHEUS_VIEWS } from './telemetry/prometheus-views.js';
