import type { NodeState } from './node-state.interface.js';

/** A point-in-time copy of one node's state, safe to serialize (dashboards, Prometheus). @publicApi */
export interface NodeSnapshot {
  id: string;
  host: string;
  port: number;
  weight: number;
  state: NodeState;
  /** 0 (unusable) .. 1 (as good as the cluster median, no errors). */
  healthScore: number;
  inFlight: number;
  /** Time-decayed peak-EWMA latency estimate in ms. */
  latencyMs: number;
  /** Time-decayed error rate in [0, 1]. */
  errorRate: number;
  consecutiveFailures: number;
  /** Tries in a row stopped because a hedge on another node answered first (reset by a success). */
  consecutiveLosses: number;
  /** How many times this node has been ejected since it was added. */
  ejections: number;
  /** Remaining ejection time in ms (0 unless ejected). */
  ejectedForMs: number;
  /** Slow-start share of normal traffic in (0, 1]; 1 once warmed up. */
  slowStartFactor: number;
  /** Last load report (`reportLoad`, or the HTTP client's `loadReportHeader`) decayed to now; 0 without reports. */
  utilization: number;
  requests: number;
  failures: number;
  /** The node's zone, when it has one. */
  zone?: string;
  metadata?: Record<string, unknown>;
}
