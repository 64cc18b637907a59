import type { NodeState } from '../interfaces/node-state.interface.js';

/**
 * A node as the balancer and strategies see it. `pick()` returns these objects themselves (no copy on the hot path):
 * treat every field as read-only; the balancer maintains the mutable ones.
 * @publicApi
 */
export class UpstreamNode {
  readonly id: string;
  readonly host: string;
  readonly port: number;
  readonly weight: number;
  readonly metadata?: Record<string, unknown>;
  readonly zone?: string;

  state: NodeState = 'healthy';
  /** Requests started through `execute` (or a half-open probe) and not yet settled. */
  inFlight = 0;
  /** When the node last answered a try itself (not cut by a timeout or a stop), or was given one while it had none. */
  progressAt = 0;
  /** Peak-EWMA latency in ms as of `costStamp`; decays toward 0 with time when read. */
  cost = 0;
  costStamp = 0;
  /**
   * Multiplier >= 1 applied to the p2c load: (1 + errorPenalty × error rate) × 2^min(consecutive failures, 4), times
   * the load-report factor 1 / (1 − utilization) when the node reports its utilization.
   */
  errorFactor = 1;
  /** Last reported utilization in [0, 1] as of `utilizationStamp`; decays toward 0 with time when not refreshed. */
  utilization = 0;
  utilizationStamp = 0;
  /** Time-decayed failure and request counts; their ratio is the error rate. */
  decayedFailures = 0;
  decayedRequests = 0;
  rateStamp = 0;
  consecutiveFailures = 0;
  /** Tries in a row stopped because another node answered their call first; reset by a success. */
  consecutiveLosses = 0;
  /** Latest health score in [0, 1], refreshed on every outcome. */
  healthScore = 1;
  /** Whether strategies may currently return this node. */
  selectable = true;
  /** Non-zero when the balancer must look at this node after a pick: bit 1 slow start, bit 2 probing. */
  admission = 0;
  slowStartFrom = 0;
  slowStartUntil = 0;
  probeInFlight = false;
  ejections = 0;
  ejectedUntil = 0;
  activeFailing = false;
  /** Active health-check streak: > 0 successes in a row, < 0 failures in a row. */
  activeStreak = 0;
  /** Whether the node came from a discovery provider (and may be removed by it). */
  discovered = false;
  requests = 0;
  failures = 0;

  constructor(
    id: string,
    host: string,
    port: number,
    weight: number,
    metadata?: Record<string, unknown>,
    zone?: string,
  ) {
    this.id = id;
    this.host = host;
    this.port = port;
    this.weight = weight;
    if (metadata !== undefined) this.metadata = metadata;
    if (zone !== undefined) this.zone = zone;
  }

  /** The latency estimate decayed to `now` (Finagle peak EWMA reads decay toward 0). */
  latencyAt(now: number, decayMs: number): number {
    return this.cost * Math.exp((this.costStamp - now) / decayMs);
  }

  /** Both decayed counts shrink by the same factor over time, so their ratio needs no decay on read. */
  get errorRate(): number {
    return this.decayedRequests > 0 ? this.decayedFailures / this.decayedRequests : 0;
  }
}

/** Admission bits: see {@link UpstreamNode.admission}. */
export const ADMIT_SLOW_START = 1;
export const ADMIT_PROBE = 2;
