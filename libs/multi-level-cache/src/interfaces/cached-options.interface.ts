/** Options of `@Cached`. @publicApi */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export interface CachedOptions<TArgs extends unknown[] = any[]> {
  /** TTL in milliseconds; the module's `ttl` when omitted. */
  ttl?: number;
  /** TTL (ms) when the method resolves to `null` (negative caching). */
  nullTtl?: number;
  /**
   * Custom key from the arguments. Default: `Class.method:` plus a canonical encoding of the arguments (hashed when
   * long). The module namespace is prepended in Redis either way.
   */
  key?: (...args: TArgs) => string;
  /** Tags of the entry, fixed or derived from the arguments. */
  tags?: readonly string[] | ((...args: TArgs) => readonly string[]);
  /** Grace period after expiry (ms): a stale value is served at once while one refresh runs in the background. */
  grace?: number;
  /** Cluster-wide single-flight under a Redis lease. Default true (when `l2` is configured). */
  lease?: boolean;
  /** Fail-safe window (ms): see `CacheWrapOptions.failSafeMaxMs`. The module's `failSafeMaxMs` when omitted. */
  failSafeMaxMs?: number;
  /** Soft loader timeout (ms): see `CacheWrapOptions.softTimeoutMs`. The module's `softTimeoutMs` when omitted. */
  softTimeoutMs?: number;
  /** Eager refresh after this fraction of the TTL: see `CacheWrapOptions.refreshAhead`. */
  refreshAhead?: number;
  /** The named cache to use (`MultiLevelCacheModule.forRoot({ name })`); the default cache when omitted. */
  cache?: string;
}

/** Options of `@CacheEvict`: what to remove after the decorated method's promise resolves. @publicApi */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export interface CacheEvictOptions<TArgs extends unknown[] = any[]> {
  /** Keys to delete, from the method's arguments. */
  keys?: (...args: TArgs) => readonly string[];
  /** Tags to invalidate, fixed or from the method's arguments. */
  tags?: readonly string[] | ((...args: TArgs) => readonly string[]);
  /** The named cache to evict from; the default cache when omitted. */
  cache?: string;
}
