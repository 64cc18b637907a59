/** State of the Redis circuit breaker, or `'disabled'` without `l2`. @publicApi */
export type L2BreakerState = 'closed' | 'open' | 'half-open' | 'isolated' | 'disabled';

/** Counters since start (monotonic) plus current state; suitable for Prometheus counters and gauges. @publicApi */
export interface MultiLevelCacheStats {
  hits: { l1: number; l2: number };
  /** Stale values served during a grace period. */
  staleHits: number;
  misses: number;
  /** Last known values answered because the loader failed or passed `softTimeoutMs` (fail-safe). */
  failSafeHits: number;
  /** Background refreshes started by `refreshAhead` on this instance (its loader ran, or L2 held a newer value). */
  eagerRefreshes: number;
  loaderCalls: number;
  loaderErrors: number;
  /** Redis operations that failed, timed out or were refused by the open breaker. */
  l2Errors: number;
  breaker: L2BreakerState;
  l1Entries: number;
  /** `ignored`: messages on the channel that were malformed or of another format version (never applied). */
  bus: { enabled: boolean; connected: boolean; received: number; published: number; ignored: number };
}

/** A fresh L1 entry as `MultiLevelCache.peek` returns it. @publicApi */
export interface CachedEntryView {
  readonly value: unknown;
  /** Until when it is fresh (`performance.now()` ms). */
  readonly freshUntil: number;
  /** When a read should refresh it ahead of expiry (`refreshAhead`, `performance.now()` ms); `Infinity` when off or
   * a refresh has started. */
  readonly refreshAt: number;
}
