import type { UpstreamNode } from '../node/upstream-node.js';
import { LATENCY_SAMPLES } from '../node/upstream-node.js';
import type { SlowStart } from '../selection/slow-start.js';

/** Median latency used as the health-score reference is recomputed at most this often. */
const REFERENCE_REFRESH_MS = 1_000;
/** Utilization above this weighs like this (1 / (1 − 0.95) = 20×), so a node reporting 100 % stays finite. */
const MAX_UTILIZATION = 0.95;
/** A latency percentile needs at least this many samples to mean anything. */
const MIN_PERCENTILE_SAMPLES = 8;

export interface HealthModelSettings {
  readonly decayMs: number;
  readonly initialLatencyMs: number;
  readonly errorPenalty: number;
}

/**
 * What the balancer knows about each node's service: peak-EWMA latency, a time-decayed error rate, the failure
 * streak, the p2c error factor, the health score and the recent successful latencies (for hedging percentiles).
 * The only writer of those fields. Every operation is O(1) except an amortized median refresh.
 */
export class NodeHealthModel {
  private referenceLatency = 0;
  private referenceStamp = Number.NEGATIVE_INFINITY;
  private recordsSinceReference = 0;
  private readonly scratch = new Float64Array(LATENCY_SAMPLES);

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
    if (!failed) node.latencySamples[node.latencySampleCount++ % LATENCY_SAMPLES] = sample;

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
   * A try stopped because another one answered first: its node took at least `elapsedMs`. Only raises the latency
   * estimate (a lower bound must not make a slow node look fast); no request, error or percentile sample is counted.
   */
  recordAtLeast(node: UpstreamNode, elapsedMs: number, now: number): void {
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
    node.errorFactor = this.errorFactor(node, now);
    node.healthScore = this.score(node, now);
  }

  /** The reported utilization decayed to `now`. */
  utilization(node: UpstreamNode, now: number): number {
    if (node.utilization === 0) return 0;
    return node.utilization * Math.exp((node.utilizationStamp - now) / this.settings.decayMs);
  }

  private errorFactor(node: UpstreamNode, now: number): number {
    // Soft failure accrual: the decayed rate reacts slowly on a node with a long good history, so each failure in a
    // row also doubles the load figure (up to 16×) until the next success.
    const failures = (1 + this.settings.errorPenalty * node.errorRate) * 2 ** Math.min(node.consecutiveFailures, 4);
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

  /**
   * The `percentile`-th (nearest rank) of the node's last successful latencies; undefined with fewer than 8 of them.
   * Called on every hedged call: a selection on a copy (O(n)), not a sort (a typed-array sort of 64 cost ~4 µs).
   */
  latencyPercentile(node: UpstreamNode, percentile: number): number | undefined {
    const count = Math.min(node.latencySampleCount, LATENCY_SAMPLES);
    if (count < MIN_PERCENTILE_SAMPLES) return undefined;
    const values = this.scratch;
    const samples = node.latencySamples;
    // A loop, not set(subarray()): the view would be an allocation per hedged call.
    for (let i = 0; i < count; i++) values[i] = samples[i];
    return select(values, count, Math.min(count - 1, Math.ceil((percentile / 100) * count) - 1));
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

/** The `k`-th smallest (0-based) of `values[0, n)`, which it reorders: Hoare's quickselect. */
function select(values: Float64Array, n: number, k: number): number {
  let lo = 0;
  let hi = n - 1;
  while (lo < hi) {
    const pivot = values[(lo + hi) >> 1];
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (values[i] < pivot) i++;
      while (values[j] > pivot) j--;
      if (i <= j) {
        const swap = values[i];
        values[i++] = values[j];
        values[j--] = swap;
      }
    }
    // Now values[lo..j] <= pivot <= values[i..hi], and everything strictly between equals the pivot.
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return values[k];
  }
  return values[k];
}
