import type { ModuleMetadata, Type } from '@nestjs/common';
import type { Clock } from '../clock/clock.js';
import type { NodeDiscovery } from '../discovery/node-discovery.js';
import type { HealthChecker } from '../health-checks/health-checker.js';
import type { RandomSource } from '../random/random-source.js';
import type { LoadBalancingStrategy } from '../strategies/load-balancing-strategy.js';
import type { LoadBalancedHttpClientOptions } from './http-client-options.interface.js';
import type { NodeConfig } from './node-config.interface.js';

/** @publicApi */
export type BuiltinStrategyName =
  'round-robin' | 'weighted-round-robin' | 'least-connections' | 'weighted-random' | 'p2c-ewma' | 'consistent-hash';

/** Passive outlier detection (Envoy / Finagle style). @publicApi */
export interface OutlierDetectionOptions {
  /** Failures in a row that eject a node. Default 5. */
  consecutiveFailures?: number;
  /** Decayed error rate in [0, 1] that ejects a node once `minRequests` decayed requests were seen. Default 0.5. */
  errorRateThreshold?: number;
  /** Decayed request volume needed before the error rate may eject. Default 10. */
  minRequests?: number;
  /** First ejection lasts this long; each further one doubles it. Default 5 000 ms. */
  baseEjectionMs?: number;
  /** Cap on one ejection. Default 300 000 ms. */
  maxEjectionMs?: number;
  /** Random extra share added to each ejection, so recovered nodes do not all return at once. Default 0.2. */
  jitter?: number;
  /** At most this share of members (percent) ejected at once; at least one is always allowed. Default 50. */
  maxEjectionPercent?: number;
  /** A half-open probe with no outcome after this long frees the probe slot again. Default 30 000 ms. */
  probeTimeoutMs?: number;
}

/** Slow start after a node is added or re-admitted (Envoy style). @publicApi */
export interface SlowStartOptions {
  /** Ramp length. Default 10 000 ms. */
  windowMs?: number;
  /** Share of normal traffic at the start of the ramp. Default 0.1. */
  minFactor?: number;
}

/** Token-bucket retry budget (Finagle): retries may add at most `ratio` of extra load plus `minPerSecond`. @publicApi */
export interface RetryBudgetOptions {
  /** Tokens deposited per first try. Default 0.2 (retries add at most ~20 %). */
  ratio?: number;
  /** Retries always allowed per second, so low-traffic callers can still retry. Default 10. */
  minPerSecond?: number;
  /** Bucket capacity. Default 100. */
  maxTokens?: number;
}

/**
 * Zone-aware routing (after Envoy's): prefer nodes whose `zone` is this app's while the local zone has enough healthy
 * capacity; otherwise spill over to the healthy nodes of every zone. @publicApi
 */
export interface LocalityOptions {
  /** The zone this app runs in (compared with each node's `zone`). */
  zone: string;
  /** The local zone serves alone while at least this share of its nodes is healthy. A ratio; default 0.7. */
  minHealthyShare?: number;
  /** ...and while at least this many of its nodes are healthy. Default 1. */
  minHealthyNodes?: number;
}

/** Active health checks. @publicApi */
export interface HealthCheckOptions {
  /** HTTP path checked by the default checker. Default `/health`. */
  path?: string;
  /** Default 10 000 ms. */
  intervalMs?: number;
  /** Per-check timeout. Default 2 000 ms. */
  timeoutMs?: number;
  /** Successes in a row that bring a failing node back. Default 2. */
  healthyThreshold?: number;
  /** Failures in a row that take a node out. Default 3. */
  unhealthyThreshold?: number;
  /** A custom checker: an instance, or a class resolved through DI. Default: HTTP GET `path`, 2xx/3xx is healthy. */
  checker?: HealthChecker | Type<HealthChecker>;
}

/** Options of one balancer. @publicApi */
export interface LoadBalancerOptions {
  /** Initial nodes. May be empty only when nodes are added at run time (`addNode` or `discovery`). */
  nodes?: NodeConfig[];
  /** A built-in strategy name or a class extending `LoadBalancingStrategy` (resolved through DI). Default `p2c-ewma`. */
  strategy?: BuiltinStrategyName | Type<LoadBalancingStrategy>;
  /** Default further tries per `execute` call. Default 0. */
  retries?: number;
  /** Default per-try timeout of `execute`, in ms. Default: none. */
  timeoutMs?: number;
  /** Default bound on a whole `execute` call (all tries), in ms; see `ExecuteOptions.deadlineMs`. Default: none. */
  deadlineMs?: number;
  /** Default `false`: no limit beyond `retries`. */
  retryBudget?: RetryBudgetOptions | false;
  /** Default: enabled with the defaults of `OutlierDetectionOptions`; `false` disables ejection. */
  outlierDetection?: OutlierDetectionOptions | false;
  /** Default: enabled; `false` disables. */
  slowStart?: SlowStartOptions | false;
  /** Below this share of selectable members, balance across all members instead of failing. Default 0.5; 0 disables. */
  panicThreshold?: number;
  /** Time constant of the latency and error-rate decay. Default 10 000 ms (half-life ≈ 6.9 s). */
  decayMs?: number;
  /** Latency estimate of the first nodes (later ones take the cluster median). Default 30 ms. */
  initialLatencyMs?: number;
  /** Weight of the error rate in the p2c load: `× (1 + errorPenalty × errorRate) × 2^min(consecutive failures, 4)`. Default 5. */
  errorPenalty?: number;
  /** Zone-aware routing; default: off (every zone alike). */
  locality?: LocalityOptions;
  /** Active health checks; default: off. */
  healthCheck?: HealthCheckOptions | false;
  /** Source of membership re-resolved at run time (e.g. `DnsDiscovery`). */
  discovery?: NodeDiscovery;
  /** Options of the `LoadBalancedHttpClient` bound to this balancer. */
  http?: LoadBalancedHttpClientOptions;
  /** Time source; default the system clock. */
  clock?: Clock;
  /** Random source; default `Math.random`. Use `seededRandom(seed)` for reproducible picks. */
  random?: RandomSource;
}

/** Options of `LoadBalancerModule.register`. @publicApi */
export interface NamedLoadBalancerOptions extends LoadBalancerOptions {
  name: string;
  /** Modules whose providers a custom strategy or health checker needs. */
  imports?: ModuleMetadata['imports'];
  /** Register the balancer's providers globally. Default true. */
  isGlobal?: boolean;
}
