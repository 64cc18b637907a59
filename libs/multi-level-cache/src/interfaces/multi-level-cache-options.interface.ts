/** In-process tier. @publicApi */
export interface L1Options {
  /** Most entries kept (LRU eviction). Default 10 000. */
  maxEntries?: number;
  /** Optional bound on the approximate bytes held (size of each entry's encoded form). */
  maxSizeBytes?: number;
  /** Upper bound on how long an entry stays in L1, whatever its own TTL (ms). Default: the entry's TTL. */
  ttl?: number;
  /**
   * While the invalidation bus is disconnected from Redis, L1 entries live at most this long (ms), because writes made
   * on other instances cannot reach this one. Default 1 000.
   */
  offlineTtl?: number;
}

/** A Redis Cluster node to discover the cluster from. @publicApi */
export interface ClusterSeed {
  host: string;
  port: number;
}

/**
 * A Keyv store adapter (`@keyv/sqlite`, `@keyv/postgres`, `@keyv/mongo`, …): what `l2.store` takes. Only these three
 * methods are used; values and keys are strings. @publicApi
 */
export interface KeyvStoreLike {
  get(key: string): unknown;
  set(key: string, value: string, ttl?: number): unknown;
  delete(key: string): unknown;
}

/**
 * The shared tier: one Redis (`url`), a Redis Cluster (`cluster`), or any Keyv store (`store`); exactly one of them.
 * @publicApi
 */
export interface L2Options {
  /** `redis://[[user]:password@]host[:port][/db]` or `rediss://…`. */
  url?: string;
  /**
   * Seed nodes of a Redis Cluster, as `{ host, port }` or `redis://host:port` URLs (credentials and TLS from the
   * first URL apply to every node). List a few: the client discovers the others.
   */
  cluster?: (ClusterSeed | string)[];
  /**
   * Any Keyv store adapter instead of Redis, e.g. `new KeyvSqlite('sqlite://cache.sqlite')`. Entries, TTLs, tags,
   * grace and fail-safe work; leases and the invalidation bus need Redis (each instance loads its own misses, and
   * another instance's L1 keeps its copy until its TTL: keep `l1.ttl` short). The store stays the application's to
   * close.
   */
  store?: KeyvStoreLike;
  /** Time budget of every Redis operation (ms); past it the operation counts as failed. Default 50. */
  timeoutMs?: number;
  /** Consecutive failed operations that open the circuit breaker. Default 5. */
  breakerThreshold?: number;
  /** How long the breaker stays open before one trial operation (ms). Default 1 000. */
  breakerHalfOpenAfterMs?: number;
  /** How long start-up waits for the first connection before going on without L2 (ms). Default 2 000. */
  connectTimeoutMs?: number;
  /** Cross-instance L1 invalidation over Redis pub/sub. Default true (false, and only false, with `store`). */
  bus?: boolean;
}

/** Cluster-wide single-flight: one instance loads a missing key under a Redis lease, the others wait for its value. */
export interface LeaseOptions {
  /** Lease lifetime (ms): a crashed holder blocks others at most this long. Default 5 000. */
  ttlMs?: number;
  /** Longest a waiter waits for another instance's value before loading itself (ms). Default 5 000. */
  waitMs?: number;
  /** Polling interval while waiting, in case the wake-up message is lost (ms). Default 50. */
  pollMs?: number;
}

/** @publicApi */
export interface MultiLevelCacheModuleOptions {
  /**
   * Name of a named cache: `forRoot({ name })` may appear several times in one app, each cache injected with
   * `@InjectCache(name)` (token `getCacheToken(name)`) and picked by `@Cached({ cache: name })`. Without it, the cache
   * is the app's default one, injected as `MultiLevelCache`. Its namespace defaults to the name.
   */
  name?: string;
  /** Key prefix in Redis and name of the invalidation channel. Instances sharing it share entries. Default `'cache'`. */
  namespace?: string;
  /** Default TTL in milliseconds. Default 60 000. */
  ttl?: number;
  /** In-process LRU, or `false` to go straight to Redis. */
  l1?: L1Options | false;
  /** Redis, or `false`/omitted for an in-process cache only. */
  l2?: L2Options | false;
  /** TTL (ms) of cached `null` results (negative caching). Default: `ttl`. */
  nullTtl?: number;
  /** Each stored TTL is shortened by a random part of up to this fraction (0–1), so entries do not expire together. */
  jitter?: number;
  /** Default grace period after expiry (ms) during which a stale value is served while one refresh runs. Default 0. */
  grace?: number;
  /** Cluster-wide single-flight settings (used by `@Cached` by default, by `wrap` with `{ lease: true }`). */
  lease?: LeaseOptions;
  /**
   * Fail-safe (stale-if-error), default for `wrap`/`@Cached`: when the loader throws or passes `softTimeoutMs`, answer
   * the last known value of the key if its TTL (plus grace) ended at most this long ago (ms). Entries are kept that
   * much longer in both tiers for it. Default 0 (off).
   */
  failSafeMaxMs?: number;
  /** Soft loader timeout (ms): past it a fail-safe value answers and the load finishes in the background. Default: none. */
  softTimeoutMs?: number;
  /**
   * Eager refresh: a read after this fraction of an entry's TTL (0 < f < 1, e.g. 0.8) refreshes it in the background
   * before it expires, once per key across instances (under the lease when `l2` is set). Default: off.
   */
  refreshAhead?: number;
}
