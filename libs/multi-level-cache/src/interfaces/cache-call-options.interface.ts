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
}
