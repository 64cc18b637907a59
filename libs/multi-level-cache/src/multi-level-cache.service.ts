import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { BackgroundWork } from './coordination/background-work.js';
import { FillWaiters } from './coordination/fill-waiters.js';
import { KeyCoordinator } from './coordination/key-coordinator.js';
import type { CacheSetOptions, CacheWrapOptions, CacheWrapResult } from './interfaces/cache-call-options.interface.js';
import type { CachedEntryView, MultiLevelCacheStats } from './interfaces/cache-stats.interface.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { L1Store, NO_REFRESH, type L1Entry } from './l1/l1-store.js';
import type { CacheContext, CacheCounters } from './load/cache-context.js';
import { resolveCallOptions, type CallOptions } from './load/call-options.js';
import { CacheWrites } from './load/cache-writes.js';
import { EagerRefresh } from './load/eager-refresh.js';
import { EntryStore } from './load/entry-store.js';
import { KeyLoader } from './load/key-loader.js';
import { MULTI_LEVEL_CACHE_OPTIONS } from './multi-level-cache.module-definition.js';
import { resolveOptions, type ResolvedOptions } from './multi-level-cache.options.js';
import { InvalidationBus, type BusMessage } from './redis/invalidation-bus.js';
import { KeyvStoreTier } from './l2/keyv-store-tier.js';
import type { L2Tier } from './l2/l2-tier.js';
import { RedisTier } from './redis/redis-tier.js';
import { CacheTelemetry } from './telemetry/cache-telemetry.js';
import { InstrumentedL2Tier } from './telemetry/instrumented-l2-tier.js';

const SHUTDOWN_DRAIN_MS = 2_000;

/**
 * The multi-level cache: L1 in-process LRU → L2 Redis → loader. Values keep their type through both tiers, L1 hits
 * return the stored reference, Redis failures never reach the caller, and concurrent misses of a key share one loader
 * call (in the process, and across instances with a lease). Who may join and who may write when loads, refreshes and
 * invalidations of a key interleave is decided by the `KeyCoordinator` (see its state machine); the slow path of a
 * read is the `KeyLoader`'s, eager refreshes the `EagerRefresh`'s, writes into the tiers the `EntryStore`'s, and
 * `set`, `del`, `invalidateTags` and `clear` the `CacheWrites`'.
 * @publicApi
 */
@Injectable()
export class MultiLevelCache implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly options: ResolvedOptions;
  private readonly l1: L1Store | undefined;
  private readonly l2: L2Tier | undefined;
  private readonly bus: InvalidationBus | undefined;
  private readonly keys = new KeyCoordinator();
  private readonly fillWaiters = new FillWaiters();
  private readonly background = new BackgroundWork();
  private readonly counters: CacheCounters = {
    l1: 0,
    l2: 0,
    l1Stale: 0,
    l2Stale: 0,
    l1Misses: 0,
    misses: 0,
    loaderCalls: 0,
    loaderErrors: 0,
    eager: 0,
  };
  private readonly entries: EntryStore;
  private readonly loader: KeyLoader;
  private readonly eager: EagerRefresh;
  private readonly writes: CacheWrites;
  private readonly telemetry: CacheTelemetry;

  constructor(@Inject(MULTI_LEVEL_CACHE_OPTIONS) options: MultiLevelCacheModuleOptions) {
    this.options = resolveOptions(options);
    if (this.options.l1) this.l1 = new L1Store(this.options.l1);
    let l2: L2Tier | undefined;
    if (this.options.l2?.store) {
      l2 = new KeyvStoreTier(this.options.l2.store, this.options.l2, this.options.namespace);
    } else if (this.options.l2) {
      const redis = new RedisTier(this.options.l2, this.options.namespace);
      l2 = redis;
      if (this.options.l2.bus) {
        this.bus = new InvalidationBus(redis, `${this.options.namespace}:bus`, {
          onMessage: (message) => this.onBusMessage(message),
          onGap: () => this.l1?.shorten(),
          onLive: () => this.writes.flushL1(),
        });
      }
    }
    this.telemetry = new CacheTelemetry(this.options.name ?? 'default', this.options.namespace, {
      counters: this.counters,
      hasL2: l2 !== undefined,
      l2Available: () => this.l2?.breakerState === 'closed',
      l1Entries: () => this.l1?.size,
      bus: () => this.bus,
    });
    this.l2 = l2 && this.telemetry.metering ? new InstrumentedL2Tier(l2, this.telemetry) : l2;
    const ctx: CacheContext = {
      telemetry: this.telemetry,
      options: this.options,
      l1: this.l1,
      l2: this.l2,
      bus: this.bus,
      keys: this.keys,
      background: this.background,
      counters: this.counters,
      logger: new Logger('MultiLevelCache'),
    };
    this.entries = new EntryStore(ctx);
    this.loader = new KeyLoader(ctx, this.entries, this.fillWaiters);
    this.eager = new EagerRefresh(ctx, this.entries, this.loader);
    this.writes = new CacheWrites(ctx, this.entries);
  }

  async onModuleInit(): Promise<void> {
    if (!this.l2 || !this.options.l2) return;
    // One budget for both: the data connection, then the subscription proven live.
    const deadline = performance.now() + this.options.l2.connectTimeoutMs;
    await this.l2.start();
    await this.bus?.start(Math.max(0, deadline - performance.now()));
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.background.drain(SHUTDOWN_DRAIN_MS);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.bus?.close();
    await this.l2?.close();
    this.fillWaiters.wakeAll();
    this.telemetry.close();
  }

  /** The value under `key`, or `undefined` on a miss (a cached `null` is a hit and returns `null`). */
  get<T = unknown>(key: string): Promise<T | undefined> {
    const hit = this.peekEntry(key);
    if (hit !== undefined) return (hit.resolved ??= Promise.resolve(hit.value)) as Promise<T>;
    return this.getMiss(key);
  }

  private async getMiss<T>(key: string): Promise<T | undefined> {
    this.counters.l1Misses++;
    if (this.l2) return this.telemetry.traced('get', () => this.readL2<T>(this.l2!, key));
    this.counters.misses++;
    return undefined;
  }

  private async readL2<T>(l2: L2Tier, key: string): Promise<T | undefined> {
    const start = this.keys.begin();
    const budget = this.entries.budget();
    const entry = await l2.read(key, budget);
    if (entry !== undefined && (await this.entries.fresh(entry, undefined, undefined, budget))) {
      this.counters.l2++;
      this.entries.backfill(key, entry, start);
      return entry.value as T;
    }
    this.counters.misses++;
    return undefined;
  }

  /**
   * Stores a value in both tiers and drops the key from every other instance's L1. Rejects with
   * `CacheSerializationError` (and writes nothing) when the value cannot be encoded faithfully.
   */
  set<T>(key: string, value: T, options: CacheSetOptions = {}): Promise<void> {
    return this.l2
      ? this.telemetry.traced('set', () => this.writes.set(key, value, options))
      : this.writes.set(key, value, options);
  }

  /** Deletes keys from both tiers and from every other instance's L1. */
  del(key: string | readonly string[]): Promise<void> {
    return this.l2 ? this.telemetry.traced('del', () => this.writes.del(key)) : this.writes.del(key);
  }

  /** Invalidates every entry carrying one of the tags, in both tiers and on every instance. */
  invalidateTags(tags: readonly string[]): Promise<void> {
    return this.l2
      ? this.telemetry.traced('invalidate_tags', () => this.writes.invalidateTags(tags))
      : this.writes.invalidateTags(tags);
  }

  /**
   * Removes every entry of the namespace: from Redis (SCAN + UNLINK of `<namespace>::*`, on every master of a
   * cluster), then from L1 on every instance (a bus message). Resolves to false when L2 could not be cleared (Redis
   * failed, or a Keyv store as L2, which cannot list its keys: its entries stay until their TTL); L1 is cleared
   * anyway. A load already running on another instance may still write its value after the clear.
   */
  clear(): Promise<boolean> {
    return this.l2 ? this.telemetry.traced('clear', () => this.writes.clear()) : this.writes.clear();
  }

  /**
   * When the entry under `key` stops being fresh (wall-clock ms since the epoch), or `undefined` when there is no
   * fresh entry: from L1, else from a read of L2 (which does not fill L1 or count as a hit).
   */
  async expiresAt(key: string): Promise<number | undefined> {
    const hit = this.l1?.get(key);
    const now = performance.now();
    if (hit !== undefined && hit.freshUntil >= now) return Math.round(Date.now() + hit.freshUntil - now);
    if (!this.l2) return undefined;
    const budget = this.entries.budget();
    const entry = await this.l2.read(key, budget);
    return entry !== undefined && (await this.entries.fresh(entry, undefined, undefined, budget))
      ? entry.freshUntil
      : undefined;
  }

  /**
   * Returns the cached value, or runs `loader` once for all concurrent callers of this key, caches and returns its
   * result. A loader error reaches every waiter and nothing is cached (unless a fail-safe value answers instead).
   */
  async wrap<T>(key: string, loader: () => Promise<T> | T, options: CacheWrapOptions = {}): Promise<T> {
    const hit = this.peekEntry(key);
    if (hit !== undefined) {
      if (hit.refreshAt !== NO_REFRESH) this.refreshIfDue(key, hit, loader, this.callOptions(options, false));
      return hit.value as T;
    }
    return this.resolve(key, loader, this.callOptions(options, false)) as Promise<T>;
  }

  /**
   * `wrap`, also telling where the value came from: `hit` (a fresh entry of L1 or L2), `miss` (the loader's value, or
   * a load another caller or instance ran) or `stale` (past its TTL: grace, or fail-safe after a loader error or
   * soft timeout). For callers that report it, such as an HTTP `X-Cache` header; `wrap` itself pays nothing for it.
   */
  async wrapWithOutcome<T>(
    key: string,
    loader: () => Promise<T> | T,
    options: CacheWrapOptions = {},
  ): Promise<CacheWrapResult<T>> {
    const hit = this.peekEntry(key);
    if (hit !== undefined) {
      if (hit.refreshAt !== NO_REFRESH) this.refreshIfDue(key, hit, loader, this.callOptions(options, false));
      return { value: hit.value as T, outcome: 'hit' };
    }
    const promise = this.resolve(key, loader, this.callOptions(options, false));
    const flight = this.keys.loading(key);
    const value = (await promise) as T;
    return { value, outcome: flight !== undefined && flight.promise === promise ? flight.outcome : 'miss' };
  }

  stats(): MultiLevelCacheStats {
    const c = this.counters;
    return {
      hits: { l1: c.l1, l2: c.l2 },
      staleHits: c.l1Stale + c.l2Stale,
      misses: c.misses,
      failSafeHits: this.loader.failSafe.hits,
      eagerRefreshes: c.eager,
      loaderCalls: c.loaderCalls,
      loaderErrors: c.loaderErrors,
      l2Errors: this.l2?.errors ?? 0,
      breaker: this.l2?.breakerState ?? 'disabled',
      l1Entries: this.l1?.size ?? 0,
      bus: {
        enabled: this.bus !== undefined,
        connected: this.bus?.live ?? false,
        received: this.bus?.received ?? 0,
        published: this.bus?.published ?? 0,
        ignored: this.bus?.ignored ?? 0,
      },
    };
  }

  /**
   * The fresh L1 entry under `key`, synchronously, or undefined (no L1 entry, or past its TTL): for a fast path that
   * answers without an async hop, as the `CacheInterceptor` does. Counts as an L1 hit. Its times are on the
   * `performance.now()` clock; an entry past `refreshAt` should go through `wrap`, which starts its eager refresh.
   * Treat the entry as read-only.
   */
  peek(key: string): CachedEntryView | undefined {
    return this.peekEntry(key);
  }

  /** Hot path of `get`, `wrap` and `@Cached`: `peek` with the full L1 entry. @internal */
  peekEntry(key: string): L1Entry | undefined {
    const entry = this.l1?.get(key);
    if (entry === undefined) return undefined;
    if (entry.keepUntil !== entry.freshUntil && entry.freshUntil < performance.now()) return undefined;
    this.counters.l1++;
    return entry;
  }

  /** Slow path of `wrap`, shared by concurrent callers of a key. @internal */
  resolve(key: string, loader: () => unknown, call: CallOptions): Promise<unknown> {
    return this.telemetry.traced('wrap', () => this.loader.resolve(key, loader, call));
  }

  /** Eager refresh of a hit past its `refreshAhead` point (see `EagerRefresh`). @internal */
  refreshIfDue(key: string, hit: L1Entry, loader: () => unknown, call: CallOptions): void {
    this.eager.refreshIfDue(key, hit, loader, call);
  }

  /** Validates and fills per-call options. @internal */
  callOptions(options: CacheWrapOptions, leaseByDefault: boolean): CallOptions {
    return resolveCallOptions(options, this.options, leaseByDefault);
  }

  private onBusMessage(message: BusMessage): void {
    if (message.k) {
      this.keys.invalidateKeys(message.k);
      for (const key of message.k) this.l1?.delete(key);
    }
    if (message.t) this.writes.dropTagged(message.t);
    if (message.f !== undefined) this.fillWaiters.filled(message.f);
    if (message.c === 1) this.writes.flushL1();
  }
}
