import type { UpstreamNode } from '../node/upstream-node.js';
import type { SlowStart } from '../selection/slow-start.js';
import { LatencyDistribution } from './latency-distribution.js';

/** Median latency used as the health-score reference is recomputed at most this often. */
const REFERENCE_REFRESH_MS = 1_000;
/** Utilization above this weighs like this (1 / (1 − 0.95) = 20×), so a node reporting 100 % stays finite. */
const MAX_UTILIZATION = 0.95;

export interface HealthModelSettings {
  readonly decayMs: number;
  readonly initialLatencyMs: number;
  readonly errorPenalty: number;
}

/**
 * What the balancer knows about each node's service: peak-EWMA latency, a time-decayed error rate, the failure and
 * loss streaks, the p2c error factor and the health score, plus the balancer-wide distribution of successful
 * latencies (for hedging percentiles). The only writer of those fields. Every operation is O(1) except an amortized
 * median refresh.
 */
export class NodeHealthModel {
  /** Successful latencies of every node, for hedge percentiles. */
  readonly latencies = new LatencyDistribution();
  private referenceLatency = 0;
  private referenceStamp = Number.NEGATIVE_INFINITY;
  private recordsSinceReference = 0;

  constructor(
    private readonly settings: HealthModelSettings,
    private readonly slowStart: SlowStart,
    /** The nodes in rotation (not draining), for the cluster median. */
    private readonly members: () => readonly UpstreamNode[],
  ) {}

  get decayMs(): number {
    return this.settings.decayMs;
  }

  /** A new node starts at the cluster median, so it is neither stampeded nor starved (Linkerd seeds a constant). */
  seed(node: UpstreamNode, now: number): void {
    node.cost = this.medianLatency(now) || this.settings.initialLatencyMs;
    node.costStamp = now;
    node.rateStamp = now;
  }

  /** Folds one outcome into the node's latency, error rate, error factor and score. */
  record(node: UpstreamNode, latencyMs: number, failed: boolean, now: number): void {
    const decayMs = this.settings.decayMs;
    node.requests++;
    if (failed) node.failures++;

    // Peak EWMA: a slower sample replaces the estimate at once; faster ones blend in by elapsed time.
    const w = Math.exp((node.costStamp - now) / decayMs);
    const decayed = node.cost * w;
    // A failure never makes a node look faster (fast-failing nodes must not attract traffic).
    const sample = failed ? Math.max(latencyMs, decayed) : Math.max(0, latencyMs);
    node.cost = sample > decayed ? sample : decayed + sample * (1 - w);
    node.costStamp = now;
    if (!failed) {
      this.latencies.add(sample);
      node.consecutiveLosses = 0;
    }

    const we = Math.exp((node.rateStamp - now) / decayMs);
    node.decayedFailures = node.decayedFailures * we + (failed ? 1 : 0);
    node.decayedRequests = node.decayedRequests * we + 1;
    node.rateStamp = now;
    node.consecutiveFailures = failed ? node.consecutiveFailures + 1 : 0;
    node.errorFactor = this.errorFactor(node, now);
    node.healthScore = this.score(node, now);
  }

  /**
   * A load report (gRPC ORCA style): the node says how busy it is, in [0, 1]. p2c then weighs the node's load by
   * 1 / (1 − utilization) (capped at 20×, at 95 %), the queueing delay factor of a busy server; the report decays
   * toward 0 with τ = decayMs unless refreshed, so a node that stops reporting is not avoided forever.
   */
  reportUtilization(node: UpstreamNode, utilization: number, now: number): void {
    node.utilization = utilization;
    node.utilizationStamp = now;
    node.errorFactor = this.errorFactor(node, now);
  }

  /**
   * A try stopped because another node answered its call first: its node took at least `elapsedMs`. Raises the
   * latency estimate to that lower bound, never lowers it, and lengthens the node's loss streak. No request, error or
   * percentile sample is counted. The streak matters because a hedge hides how slow a node is: a node at 2 s whose
   * tries all lose to hedges at 250 ms would look like a 250 ms node and keep its share of calls, each one paying
   * for a hedge. So each loss in a row doubles its p2c load figure, as a failure does, until it answers first again.
   */
  recordAtLeast(node: UpstreamNode, elapsedMs: number, now: number): void {
    node.consecutiveLosses++;
    node.errorFactor = this.errorFactor(node, now);
    const decayed = node.cost * Math.exp((node.costStamp - now) / this.settings.decayMs);
    if (elapsedMs <= decayed) return;
    node.cost = elapsedMs;
    node.costStamp = now;
  }

  /** An ejection starts a fresh failure streak. */
  clearStreak(node: UpstreamNode): void {
    node.consecutiveFailures = 0;
  }

  /** A recovered node starts with a clean error record (its latency history is kept). */
  forgive(node: UpstreamNode, now: number): void {
    node.decayedFailures = 0;
    node.decayedRequests = 0;
    node.consecutiveFailures = 0;
    node.consecutiveLosses = 0;
    node.errorFactor = this.errorFactor(node, now);
    node.healthScore = this.score(node, now);
  }

  /** The reported utilization decayed to `now`. */
  utilization(node: UpstreamNode, now: number): number {
    if (node.utilization === 0) return 0;
    return node.utilization * Math.exp((node.utilizationStamp - now) / this.settings.decayMs);
  }

  private errorFactor(node: UpstreamNode, now: number): number {
    // Soft failure accrual: the decayed rate reacts slowly on a node with a long good history, so each failure (or
    // loss to a hedge) in a row also doubles the load figure, up to 16×, until the next success.
    const streak = Math.min(node.consecutiveFailures + node.consecutiveLosses, 4);
    const failures = (1 + this.settings.errorPenalty * node.errorRate) * 2 ** streak;
    if (node.utilization === 0) return failures;
    return failures / (1 - Math.min(this.utilization(node, now), MAX_UTILIZATION));
  }

  latencyMs(node: UpstreamNode, now: number): number {
    return node.latencyAt(now, this.settings.decayMs);
  }

  /** (1 − error rate) × min(1, cluster median latency / own latency) × slow-start factor; 0 when out of rotation. */
  score(node: UpstreamNode, now: number): number {
    if (node.state === 'ejected' || node.state === 'draining') return 0;
    const latency = node.latencyAt(now, this.settings.decayMs);
    const reference = this.reference(now);
    const latencyFactor = latency > 0 && reference > 0 ? Math.min(1, reference / latency) : 1;
    return (1 - node.errorRate) * latencyFactor * this.slowStart.factor(node, now);
  }

  private reference(now: number): number {
    // Refreshed by time and by volume (once per n/4 outcomes), so the O(n log n) median stays amortized O(log n).
    if (
      this.referenceLatency === 0 ||
      now - this.referenceStamp >= REFERENCE_REFRESH_MS ||
      ++this.recordsSinceReference >= Math.max(8, this.members().length >> 2)
    ) {
      this.referenceLatency = this.medianLatency(now);
      this.referenceStamp = now;
      this.recordsSinceReference = 0;
    }
    return this.referenceLatency;
  }

  /** Median latency of the nodes that have answered at least once (seeded estimates are not evidence). */
  private medianLatency(now: number): number {
    const decayMs = this.settings.decayMs;
    const values = this.members()
      .filter((node) => node.requests > 0)
      .map((node) => node.latencyAt(now, decayMs));
    if (values.length === 0) return 0;
    values.sort((a, b) => a - b);
    const mid = values.length >> 1;
    return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }
}
