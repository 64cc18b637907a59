/** Options of `MultiLevelCache.set`. @publicApi */
export interface CacheSetOptions {
  /** TTL in milliseconds; the module's `ttl` when omitted. */
  ttl?: number;
  /** TTL (ms) when the value is `null` (negative caching); the module's `nullTtl`, else `ttl`, when omitted. */
  nullTtl?: number;
  /** Tags to invalidate the entry by, with `invalidateTags`. */
  tags?: readonly string[];
  /** Grace period after expiry (ms) during which `wrap`/`@Cached` serve the stale value while refreshing. */
  grace?: number;
}

/** Options of `MultiLevelCache.wrap`. @publicApi */
export interface CacheWrapOptions extends CacheSetOptions {
  /** Cluster-wide single-flight under a Redis lease (needs `l2`). Default false for `wrap`, true for `@Cached`. */
  lease?: boolean;
  /**
   * Fail-safe (stale-if-error): when the loader throws (or `softTimeoutMs` passes), answer the last known value of the
   * key if it ended (TTL plus grace) at most this long ago (ms). Also how long past its end a value loaded by this call
   * is kept for that. 0 turns it off. The module's `failSafeMaxMs` when omitted.
   */
  failSafeMaxMs?: number;
  /** After this long (ms) a loader still running is left to finish in the background and a fail-safe value answers (if there is one). The module's `softTimeoutMs` when omitted. */
  softTimeoutMs?: number;
  /** Fraction of the TTL (0 < f < 1) after which a read of the key refreshes it in the background. The module's `refreshAhead` when omitted. */
  refreshAhead?: number;
}

/** Where the answer of `wrapWithOutcome` came from. `stale`: past its TTL (grace, fail-safe or soft timeout). @publicApi */
export type CacheOutcome = 'hit' | 'miss' | 'stale';

/** The answer of `wrapWithOutcome`. @publicApi */
export interface CacheWrapResult<T> {
  value: T;
  outcome: CacheOutcome;
}
