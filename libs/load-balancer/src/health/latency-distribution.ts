/** Successful latencies the balancer keeps, all nodes together, for hedge percentiles. */
export const DISTRIBUTION_SAMPLES = 512;
/** A percentile needs at least this many samples to mean anything. */
const MIN_SAMPLES = 8;
/** A cached percentile is recomputed once this many samples have been written since (1/8 of the ring). */
const REFRESH_EVERY = DISTRIBUTION_SAMPLES >> 3;
/** Percentiles cached at once; a caller asking for ever new ones gets each computed, not an ever larger cache. */
const MAX_CACHED = 8;

interface CachedPercentile {
  value: number;
  /** `written` when `value` was computed. */
  at: number;
}

/**
 * The balancer's last 512 successful latencies: the "class of requests" whose percentile says when a call has become
 * slow enough to hedge (Dean & Barroso, "The Tail at Scale", 2013). One distribution for the whole balancer, not one
 * per node: a node that turned slow would otherwise delay its own hedges by its new slowness, and its samples go stale
 * as soon as hedges win its calls. A read is O(1) while fewer than 64 samples arrived since the percentile was
 * computed, else one quickselect of the ring (O(n), so amortized O(1) per sample).
 */
export class LatencyDistribution {
  private readonly ring = new Float64Array(DISTRIBUTION_SAMPLES);
  private readonly scratch = new Float64Array(DISTRIBUTION_SAMPLES);
  /** Every sample ever written; the ring holds the last `DISTRIBUTION_SAMPLES` of them. */
  private written = 0;
  private readonly cache = new Map<number, CachedPercentile>();

  add(latencyMs: number): void {
    this.ring[this.written++ % DISTRIBUTION_SAMPLES] = latencyMs;
  }

  /** The `percentile`-th (nearest rank) of the kept samples; undefined with fewer than 8 of them. */
  percentile(percentile: number): number | undefined {
    const count = Math.min(this.written, DISTRIBUTION_SAMPLES);
    if (count < MIN_SAMPLES) return undefined;
    const cached = this.cache.get(percentile);
    if (cached !== undefined && this.written - cached.at < REFRESH_EVERY) return cached.value;
    const values = this.scratch;
    // A loop, not set(subarray()): the view would be an allocation per refresh.
    for (let i = 0; i < count; i++) values[i] = this.ring[i];
    const value = select(values, count, Math.min(count - 1, Math.ceil((percentile / 100) * count) - 1));
    if (cached === undefined) {
      if (this.cache.size < MAX_CACHED) this.cache.set(percentile, { value, at: this.written });
    } else {
      cached.value = value;
      cached.at = this.written;
    }
    return value;
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
