import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import { encodeValue } from './codec/value-codec.js';
import type { CacheSetOptions, CacheWrapOptions, CacheWrapResult } from './interfaces/cache-call-options.interface.js';
import type { MultiLevelCacheStats } from './interfaces/cache-stats.interface.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MULTI_LEVEL_CACHE_OPTIONS } from './multi-level-cache.module-definition.js';
import { BackgroundWork } from './coordination/background-work.js';
import { FailSafe, type Fallback } from './coordination/fail-safe.js';
import { FillWaiters } from './coordination/fill-waiters.js';
import { KeyCoordinator, type Flight } from './coordination/key-coordinator.js';
import { L1Store, NO_REFRESH, type L1Entry } from './l1/l1-store.js';
import {
  checkCallMs,
  fraction,
  invalidOption,
  resolveOptions,
  type ResolvedOptions,
} from './multi-level-cache.options.js';
import { CallBudget } from './redis/call-budget.js';
import { InvalidationBus, type BusMessage } from './redis/invalidation-bus.js';
import {
  RedisTier,
  type Announcement,
  type ReaderLimits,
  type StoredEntry,
  type TagVersions,
  type WriteCondition,
} from './redis/redis-tier.js';

/** How a load or write stores its result. */
interface StoreMode {
  /** `KeyCoordinator.begin()` when the operation started (L1 fencing). */
  start: number;
  /** The flight doing the work; a detached one writes nothing. */
  flight?: Flight;
  /** What the key held in Redis when the work read it (see `WriteCondition`). */
  expect: WriteCondition;
  budget: CallBudget | undefined;
  announce?: Announcement;
}

interface LoadMode extends StoreMode {
  /** The Redis write is part of the call (lease holders, refreshes) rather than in the background. */
  awaitL2: boolean;
  /** The key's last known value, answered if the loader fails or passes the soft timeout. */
  fallback?: Fallback;
}

/** Per-call options after defaults. */
interface CallOptions {
  ttl: number | undefined;
  nullTtl: number | undefined;
  tags: readonly string[] | undefined;
  grace: number;
  lease: boolean;
  failSafeMaxMs: number;
  softTimeoutMs: number | undefined;
  /** 0: off. */
  refreshAhead: number;
  /** What this call would give a value it loads: the freshness it accepts from Redis is capped by it. */
  limits: ReaderLimits;
}

const SHUTDOWN_DRAIN_MS = 2_000;

/**
 * The multi-level cache: L1 in-process LRU → L2 Redis → loader. Values keep their type through both tiers, L1 hits
 * return the stored reference, Redis failures never reach the caller, and concurrent misses of a key share one loader
 * call (in the process, and across instances with a lease). Who may join and who may write when loads, refreshes and
 * invalidations of a key interleave is decided by the `KeyCoordinator` (see its state machine).
 * @publicApi
 */
@Injectable()
export class MultiLevelCache implements OnModuleInit, BeforeApplicationShutdown, OnApplicationShutdown {
  private readonly options: ResolvedOptions;
  private readonly l1: L1Store | undefined;
  private readonly l2: RedisTier | undefined;
  private readonly bus: InvalidationBus | undefined;
  private readonly keys = new KeyCoordinator();
  private readonly fillWaiters = new FillWaiters();
  private readonly background = new BackgroundWork();
  private readonly logger = new Logger('MultiLevelCache');
  private readonly failSafe = new FailSafe(this.logger, this.background);
  private leaseSeq = 0;
  private readonly counters = { l1: 0, l2: 0, stale: 0, misses: 0, loaderCalls: 0, loaderErrors: 0, eager: 0 };

  constructor(@Inject(MULTI_LEVEL_CACHE_OPTIONS) options: MultiLevelCacheModuleOptions) {
    this.options = resolveOptions(options);
    if (this.options.l1) this.l1 = new L1Store(this.options.l1);
    if (this.options.l2) {
      this.l2 = new RedisTier(this.options.l2, this.options.namespace);
      if (this.options.l2.bus) {
        this.bus = new InvalidationBus(this.l2, `${this.options.namespace}:bus`, {
          onMessage: (message) => this.onBusMessage(message),
          onGap: () => this.l1?.shorten(),
          onLive: () => this.flushL1(),
        });
      }
    }
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
  }

  /** The value under `key`, or `undefined` on a miss (a cached `null` is a hit and returns `null`). */
  async get<T = unknown>(key: string): Promise<T | undefined> {
    const hit = this.peek(key);
    if (hit !== undefined) return hit.value as T;
    if (this.l2) {
      const start = this.keys.begin();
      const budget = this.budget();
      const entry = await this.l2.read(key, budget);
      if (
        entry?.usable &&
        entry.freshUntil >= Date.now() &&
        (entry.tags === undefined || (await this.tagsCurrent(entry, undefined, undefined, budget)))
      ) {
        this.counters.l2++;
        this.backfill(key, entry, start);
        return entry.value as T;
      }
    }
    this.counters.misses++;
    return undefined;
  }

  /**
   * Stores a value in both tiers and drops the key from every other instance's L1. Rejects with
   * `CacheSerializationError` (and writes nothing) when the value cannot be encoded faithfully.
   */
  async set<T>(key: string, value: T, options: CacheSetOptions = {}): Promise<void> {
    const call = this.callOptions(options, false);
    const text = encodeValue(value);
    this.keys.invalidateKeys([key]);
    const start = this.keys.begin();
    const budget = this.budget();
    const versions = call.tags && this.l2 ? await this.l2.tagVersions(call.tags, budget) : undefined;
    const announce = this.bus?.announcement({ k: [key] });
    let announced: boolean;
    if (this.l2 && call.tags && versions === undefined) {
      // Tag versions unknown: the new value cannot be stored invalidatably, and the old one must not be reloaded.
      this.storeL1(key, value, text, call, start);
      announced = (await this.l2.remove([key], this.tombstoneMs(), announce, budget)) && announce !== undefined;
    } else {
      announced = await this.store(key, value, text, call, versions, { start, expect: undefined, budget, announce });
    }
    if (announced) this.noteAnnounced();
    else await this.bus?.publish({ k: [key] }, budget);
  }

  /** Deletes keys from both tiers and from every other instance's L1. */
  async del(key: string | readonly string[]): Promise<void> {
    const keys = typeof key === 'string' ? [key] : isStringArray(key) ? [...key] : invalidKeys(key);
    if (keys.length === 0) return;
    this.keys.invalidateKeys(keys);
    for (const k of keys) this.l1?.delete(k);
    const budget = this.budget();
    if (await this.l2?.remove(keys, this.tombstoneMs(), this.bus?.announcement({ k: keys }), budget))
      this.noteAnnounced();
    // On a cluster the key's master may be down while others relay messages: still tell the other instances.
    else if (this.l2?.cluster) await this.bus?.publish({ k: keys }, budget);
  }

  /** Invalidates every entry carrying one of the tags, in both tiers and on every instance. */
  async invalidateTags(tags: readonly string[]): Promise<void> {
    if (!isStringArray(tags)) invalidOption('tags', tags, 'an array of strings');
    if (tags.length === 0) return;
    this.dropTagged(tags);
    const budget = this.budget();
    if (await this.l2?.bumpTags(tags, this.bus?.announcement({ t: [...tags] }), budget)) this.noteAnnounced();
    else if (this.l2?.cluster) await this.bus?.publish({ t: [...tags] }, budget);
  }

  /**
   * Returns the cached value, or runs `loader` once for all concurrent callers of this key, caches and returns its
   * result. A loader error reaches every waiter and nothing is cached.
   */
  async wrap<T>(key: string, loader: () => Promise<T> | T, options: CacheWrapOptions = {}): Promise<T> {
    const hit = this.peek(key);
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
    const hit = this.peek(key);
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
      staleHits: c.stale,
      misses: c.misses,
      failSafeHits: this.failSafe.hits,
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
   * Hot path: a fresh L1 entry or undefined. Used by `@Cached` wrappers to answer without an extra async hop.
   * @internal
   */
  peek(key: string): L1Entry | undefined {
    const entry = this.l1?.get(key);
    if (entry === undefined) return undefined;
    if (entry.keepUntil !== entry.freshUntil && entry.freshUntil < performance.now()) return undefined;
    this.counters.l1++;
    return entry;
  }

  /**
   * Eager refresh (`refreshAhead`) of a hot entry past its refresh point: in the background, once per key on this
   * instance (the coordinator) and across instances (the lease), reading Redis first: another instance may have
   * refreshed it already. The entry is marked so later hits do not try again; a refresh elsewhere announces its write,
   * which drops this copy. @internal
   */
  refreshIfDue(key: string, hit: L1Entry, loader: () => unknown, call: CallOptions): void {
    if (hit.refreshAt > performance.now()) return;
    hit.refreshAt = NO_REFRESH;
    const refresh = this.keys.refresh(key, call.tags, (flight) =>
      this.refreshAhead(key, hit.value, loader, call, flight),
    );
    if (!refresh) return;
    refresh.catch((error: unknown) => {
      this.logger.debug?.(`Eager refresh of "${key}" failed; the value stays until it expires: ${String(error)}`);
    });
    this.background.track(refresh);
  }

  /** Slow path of `wrap`, shared by concurrent callers of a key. @internal */
  resolve(key: string, loader: () => unknown, call: CallOptions): Promise<unknown> {
    return this.keys.load(key, call.tags, (flight) => this.resolveOnce(key, loader, call, flight));
  }

  /** Validates and fills per-call options. @internal */
  callOptions(options: CacheWrapOptions, leaseByDefault: boolean): CallOptions {
    checkCallMs('ttl', options.ttl);
    checkCallMs('grace', options.grace);
    checkCallMs('nullTtl', options.nullTtl);
    checkCallMs('failSafeMaxMs', options.failSafeMaxMs);
    checkCallMs('softTimeoutMs', options.softTimeoutMs);
    if (options.tags !== undefined && !isStringArray(options.tags))
      invalidOption('tags', options.tags, 'an array of strings');
    const grace = options.grace ?? this.options.grace;
    return {
      ttl: options.ttl,
      nullTtl: options.nullTtl,
      tags: options.tags && options.tags.length > 0 ? options.tags : undefined,
      grace,
      lease: options.lease ?? leaseByDefault,
      failSafeMaxMs: options.failSafeMaxMs ?? this.options.failSafeMaxMs,
      softTimeoutMs: options.softTimeoutMs ?? this.options.softTimeoutMs,
      refreshAhead: fraction('refreshAhead', options.refreshAhead, undefined) ?? this.options.refreshAhead,
      limits: { ttl: options.ttl ?? this.options.ttl, grace },
    };
  }

  private async resolveOnce(key: string, loader: () => unknown, call: CallOptions, flight: Flight): Promise<unknown> {
    const start = this.keys.begin();
    const local = this.l1?.get(key);
    let fallback: Fallback | undefined;
    if (local !== undefined) {
      const now = performance.now();
      if (local.freshUntil >= now) {
        this.counters.l1++;
        flight.outcome = 'hit';
        return local.value;
      }
      if (local.staleUntil > now) {
        this.counters.stale++;
        flight.outcome = 'stale';
        this.refreshInBackground(key, loader, call, undefined);
        return local.value;
      }
      // Past its TTL and grace, kept as the last known value.
      if (call.failSafeMaxMs > 0 && now <= local.endedAt + call.failSafeMaxMs) fallback = local;
    }
    const budget = this.budget();
    let versions: TagVersions | undefined;
    let expect: WriteCondition = null;
    if (this.l2) {
      const [entry, current] = await Promise.all([
        this.l2.read(key, budget, call.limits),
        call.tags ? this.l2.tagVersions(call.tags, budget) : undefined,
      ]);
      versions = current;
      expect = entry?.raw ?? null;
      // Redis answered: only what it holds may be the last known value (a tombstone of a `del` stops the L1 copy).
      if (entry !== undefined) fallback = undefined;
      if (entry?.usable && (await this.tagsCurrent(entry, call.tags, current, budget))) {
        const now = Date.now();
        if (entry.freshUntil >= now) {
          this.counters.l2++;
          flight.outcome = 'hit';
          this.backfill(key, entry, start);
          return entry.value;
        }
        if (entry.staleUntil > now) {
          this.counters.stale++;
          flight.outcome = 'stale';
          this.backfill(key, entry, start);
          this.refreshInBackground(key, loader, call, entry.raw);
          return entry.value;
        }
        if (call.failSafeMaxMs > 0 && now < entry.keepUntil && now <= entry.staleUntil + call.failSafeMaxMs)
          fallback = entry;
      }
    }
    this.counters.misses++;
    const refresh = this.keys.refreshing(key);
    if (refresh) return fallback ? this.guard(key, refresh, fallback, call, flight) : refresh;
    const mode: LoadMode = { awaitL2: false, start, flight, expect, budget, fallback };
    if (call.lease && this.l2 && (this.bus === undefined || this.bus.live))
      return this.loadUnderLease(key, loader, call, versions, mode);
    return this.load(key, loader, call, versions, mode);
  }

  /** Runs the loader and stores its result; answers `mode.fallback` instead if the loader fails or is too slow. */
  private load(
    key: string,
    loader: () => unknown,
    call: CallOptions,
    knownVersions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const loading = this.loadAndStore(key, loader, call, knownVersions, mode);
    return mode.fallback ? this.guard(key, loading, mode.fallback, call, mode.flight) : loading;
  }

  private guard(
    key: string,
    loading: Promise<unknown>,
    fallback: Fallback,
    call: CallOptions,
    flight: Flight | undefined,
  ): Promise<unknown> {
    return this.failSafe.guard(key, loading, fallback, call.softTimeoutMs, (late) => {
      if (flight) flight.outcome = 'stale';
      // Later misses join the late load instead of starting another one on a slow source.
      if (late) this.keys.refresh(key, call.tags, () => loading);
    });
  }

  private async loadAndStore(
    key: string,
    loader: () => unknown,
    call: CallOptions,
    knownVersions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const { budget } = mode;
    const versions = knownVersions ?? (call.tags && this.l2 ? await this.l2.tagVersions(call.tags, budget) : undefined);
    this.counters.loaderCalls++;
    let value: unknown;
    try {
      // The loader's time is not Redis time: it does not use up the call's budget.
      value = budget ? await budget.outside(loader) : await loader();
    } catch (error) {
      this.counters.loaderErrors++;
      throw error;
    }
    const text = encodeValue(value);
    const stored = this.store(key, value, text, call, versions, mode);
    if (mode.awaitL2) await stored;
    else this.background.track(stored);
    return value;
  }

  private async loadUnderLease(
    key: string,
    loader: () => unknown,
    call: CallOptions,
    versions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const l2 = this.l2 as RedisTier;
    const { start, budget } = mode;
    const { ttlMs, waitMs, pollMs } = this.options.lease;
    const token = this.leaseToken();
    const deadline = performance.now() + waitMs;
    for (;;) {
      const got = await l2.tryLease(key, token, ttlMs, budget);
      if (got === undefined) return this.load(key, loader, call, versions, mode);
      if (got) {
        try {
          // Another instance may have filled the key between our read and the lease.
          const entry = await l2.read(key, budget, call.limits);
          if (
            entry?.usable &&
            entry.freshUntil >= Date.now() &&
            (await this.tagsCurrent(entry, call.tags, versions, budget))
          ) {
            this.backfill(key, entry, start);
            return entry.value;
          }
          // Waiters read Redis when woken: the write is part of the lease.
          return await this.load(key, loader, call, versions, {
            ...mode,
            awaitL2: true,
            expect: entry?.raw ?? null,
          });
        } finally {
          // Not part of the call's latency: the lease expires by itself if this fails.
          this.background.track(this.endLease(key, token));
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return this.load(key, loader, call, versions, mode);
      const wait = () => this.fillWaiters.wait(key, Math.min(pollMs, left));
      await (budget ? budget.outside(wait) : wait());
      const entry = await l2.read(key, budget, call.limits);
      if (
        entry?.usable &&
        entry.freshUntil >= Date.now() &&
        (await this.tagsCurrent(entry, call.tags, undefined, budget))
      ) {
        this.counters.l2++;
        this.backfill(key, entry, start);
        return entry.value;
      }
      mode.expect = entry?.raw ?? null;
    }
  }

  private leaseToken(): string {
    return `${this.bus?.origin ?? 'local'}:${++this.leaseSeq}`;
  }

  private async endLease(key: string, token: string): Promise<void> {
    await this.l2?.releaseLease(key, token);
    await this.bus?.publish({ f: key });
  }

  /**
   * One background refresh per key. `seen` is the Redis record the stale value came from; a refresh of an L1 entry
   * reads Redis first (another instance may have refreshed already). Either way it writes only over that record.
   */
  private refreshInBackground(key: string, loader: () => unknown, call: CallOptions, seen: string | undefined): void {
    const refresh = this.keys.refresh(key, call.tags, async (flight) => {
      const start = this.keys.begin();
      const budget = this.budget();
      let expect: WriteCondition = seen ?? null;
      if (seen === undefined && this.l2) {
        const entry = await this.l2.read(key, budget, call.limits);
        if (
          entry?.usable &&
          entry.freshUntil >= Date.now() &&
          (await this.tagsCurrent(entry, call.tags, undefined, budget))
        ) {
          this.backfill(key, entry, start);
          return entry.value;
        }
        expect = entry?.raw ?? null;
      }
      const announce = this.bus?.announcement({ k: [key] });
      return this.load(key, loader, call, undefined, { awaitL2: true, start, flight, expect, budget, announce });
    });
    if (!refresh) return;
    refresh.catch((error: unknown) => {
      this.logger.debug?.(
        `Refresh of "${key}" failed; the stale value stays until its grace period ends: ${String(error)}`,
      );
    });
    this.background.track(refresh);
  }

  /** Resolves with the refreshed value, or `current` (still fresh) when another instance refreshes it. */
  private async refreshAhead(
    key: string,
    current: unknown,
    loader: () => unknown,
    call: CallOptions,
    flight: Flight,
  ): Promise<unknown> {
    const start = this.keys.begin();
    const budget = this.budget();
    const announce = this.bus?.announcement({ k: [key] });
    const mode: LoadMode = { awaitL2: true, start, flight, expect: undefined, budget, announce };
    if (!this.l2) {
      this.counters.eager++;
      return this.load(key, loader, call, undefined, mode);
    }
    const l2 = this.l2;
    const seen = await l2.read(key, budget, call.limits);
    if (await this.refreshedSince(seen, call, budget)) {
      this.backfill(key, seen as StoredEntry, start, call.refreshAhead);
      return (seen as StoredEntry).value;
    }
    const token = this.leaseToken();
    const got = await l2.tryLease(key, token, this.options.lease.ttlMs, budget);
    if (got === false) return current;
    try {
      const entry = got ? await l2.read(key, budget, call.limits) : seen;
      if (got && (await this.refreshedSince(entry, call, budget))) {
        this.backfill(key, entry as StoredEntry, start, call.refreshAhead);
        return (entry as StoredEntry).value;
      }
      this.counters.eager++;
      return await this.load(key, loader, call, undefined, { ...mode, expect: entry?.raw ?? null });
    } finally {
      if (got) this.background.track(this.endLease(key, token));
    }
  }

  /** Whether Redis holds a value of the key that is not due for a refresh yet (another instance refreshed it). */
  private async refreshedSince(
    entry: StoredEntry | undefined,
    call: CallOptions,
    budget: CallBudget | undefined,
  ): Promise<boolean> {
    if (!entry?.usable) return false;
    const now = Date.now();
    const due = entry.writtenAt + (entry.freshUntil - entry.writtenAt) * call.refreshAhead;
    return entry.freshUntil >= now && due > now && (await this.tagsCurrent(entry, call.tags, undefined, budget));
  }

  /** Writes L1 (unless fenced) and Redis (under `mode.expect`); resolves whether the write was announced. */
  private async store(
    key: string,
    value: unknown,
    text: string,
    call: CallOptions,
    versions: TagVersions | undefined,
    mode: StoreMode,
  ): Promise<boolean> {
    if (mode.flight?.detached) return false;
    const ttl = this.storeL1(key, value, text, call, mode.start);
    if (!this.l2) return false;
    // A tagged entry whose tag versions are unknown could not be invalidated: keep it out of Redis.
    if (call.tags && versions === undefined) return false;
    const now = Date.now();
    const written = await this.l2.write(
      key,
      text,
      now + ttl,
      now + ttl + call.grace,
      now + ttl + call.grace + call.failSafeMaxMs,
      call.tags,
      versions,
      {
        announce: mode.announce,
        expect: mode.expect,
        budget: mode.budget,
      },
    );
    if (written && mode.announce) return true;
    return false;
  }

  /** Puts a value that was just written or loaded into L1 (unless fenced); returns the TTL it got. */
  private storeL1(key: string, value: unknown, text: string, call: CallOptions, start: number): number {
    const nullTtl = value === null ? (call.nullTtl ?? this.options.nullTtl) : undefined;
    const baseTtl = nullTtl ?? call.ttl ?? this.options.ttl;
    const ttl = this.options.jitter > 0 ? baseTtl * (1 - Math.random() * this.options.jitter) : baseTtl;
    if (this.keys.unchangedSince(start, key, call.tags)) {
      const refreshFor = call.refreshAhead > 0 ? ttl * call.refreshAhead : NO_REFRESH;
      this.setL1(key, value, ttl, ttl + call.grace, call.tags, text.length, call.failSafeMaxMs, refreshFor);
    }
    return ttl;
  }

  private backfill(key: string, entry: StoredEntry, start: number, refreshAhead = this.options.refreshAhead): void {
    if (!this.keys.unchangedSince(start, key, entry.tags)) return;
    const size = this.l1?.measuresSize ? encodeValue(entry.value).length : 0;
    // Redis holds wall-clock times (they travel between hosts); L1 keeps what is left of them, monotonically.
    const now = Date.now();
    const refreshFor =
      refreshAhead > 0 ? entry.writtenAt + (entry.freshUntil - entry.writtenAt) * refreshAhead - now : NO_REFRESH;
    const staleFor = entry.staleUntil - now;
    this.setL1(
      key,
      entry.value,
      entry.freshUntil - now,
      staleFor,
      entry.tags,
      size,
      entry.keepUntil - entry.staleUntil,
      refreshFor,
    );
  }

  /** `freshFor`/`staleFor`: milliseconds from now. */
  private setL1(
    key: string,
    value: unknown,
    freshFor: number,
    staleFor: number,
    tags: readonly string[] | undefined,
    size: number,
    keepFor: number,
    refreshFor: number,
  ): void {
    const offline = this.bus !== undefined && !this.bus.live;
    this.l1?.set(key, value, freshFor, staleFor, tags, size, offline, keepFor, refreshFor);
  }

  private dropTagged(tags: readonly string[]): void {
    this.keys.invalidateTags(tags);
    this.l1?.deleteTagged(tags);
  }

  private async tagsCurrent(
    entry: StoredEntry,
    tags: readonly string[] | undefined,
    current: TagVersions | undefined,
    budget: CallBudget | undefined,
  ): Promise<boolean> {
    if (!entry.tags || entry.tags.length === 0) return true;
    const versions =
      current && tags && sameTags(tags, entry.tags) ? current : await this.l2?.tagVersions(entry.tags, budget);
    if (!versions || !entry.versions) return false;
    return versions.every((v, i) => entry.versions?.[i] === v);
  }

  private onBusMessage(message: BusMessage): void {
    if (message.k) {
      this.keys.invalidateKeys(message.k);
      for (const key of message.k) this.l1?.delete(key);
    }
    if (message.t) this.dropTagged(message.t);
    if (message.f !== undefined) this.fillWaiters.filled(message.f);
  }

  private flushL1(): void {
    this.keys.invalidateAll();
    this.l1?.clear();
  }

  private noteAnnounced(): void {
    if (this.bus) this.bus.published++;
  }

  /** Long enough to outlast a load that started before the delete (it may wait for a lease, then load). */
  private tombstoneMs(): number {
    return Math.max(this.options.ttl, this.options.lease.ttlMs + this.options.lease.waitMs);
  }

  /** The Redis time a call may still spend, shared by all its Redis steps. */
  private budget(): CallBudget | undefined {
    return this.options.l2 ? new CallBudget(this.options.l2.timeoutMs) : undefined;
  }
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

function invalidKeys(key: unknown): never {
  return invalidOption('key', key, 'a string or an array of strings');
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
