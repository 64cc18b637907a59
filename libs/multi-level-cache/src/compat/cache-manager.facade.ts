import { EventEmitter } from 'node:events';
import type Keyv from 'keyv';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import type { FacadeOptions } from './cache-module-options.js';
import { checkCompatTtl, compatTtl } from './compat-ttl.js';

/** A TTL (ms) or threshold, fixed or computed from the value, as cache-manager's `wrap` takes them. */
type PerValue<T> = number | ((value: T) => number);

/** cache-manager's `wrap` options object. @publicApi */
export interface CacheWrapCompatOptions<T> {
  ttl?: PerValue<T>;
  refreshThreshold?: PerValue<T>;
  /** Resolve to `{ value, expires }` instead of the value. */
  raw?: boolean;
}

/** An entry as `wrap(…, { raw: true })` resolves it (cache-manager's `StoredDataRaw`). @publicApi */
export interface CacheRawEntry<T> {
  value: T;
  expires: number | undefined;
}

/** cache-manager's events. @publicApi */
export type CacheEventName = 'get' | 'mget' | 'set' | 'mset' | 'del' | 'mdel' | 'clear' | 'refresh' | 'ttl';
/** A listener of those events; the payloads are cache-manager's (`{ key, value }`, `{ key, error }`, …). @publicApi */
export type CacheListener = (...args: never[]) => void;

/**
 * What `CACHE_MANAGER` resolves to: cache-manager 7's `Cache` API (TTL arguments in ms, the same results and events)
 * on the multi-level cache, so code written for `@nestjs/cache-manager` keeps working and gets the tiers,
 * single-flight `wrap`, faithful types and coherence across instances.
 *
 * Where it differs from cache-manager, it says so: `clear()` is `MultiLevelCache.clear()` (the whole namespace, on
 * every instance; not the entries of a Keyv store as L2); `disconnect()`
 * leaves the connections to the Nest application, which closes them at shutdown; `stores` is empty (the tiers are
 * not Keyv instances).
 * @publicApi
 */
export class Cache {
  /** cache-manager's list of Keyv stores; the tiers here are not Keyv instances. */
  readonly stores: Keyv[] = [];
  private readonly events = new EventEmitter();
  private readonly refreshing = new Set<string>();

  constructor(
    private readonly cache: MultiLevelCache,
    private readonly options: FacadeOptions,
  ) {}

  /** The value, or `undefined` on a miss (a cached `null` is returned as `null`). */
  async get<T>(key: string): Promise<T | undefined> {
    const value = await this.cache.get<T>(key);
    this.events.emit('get', { key, value });
    return value;
  }

  async mget<T>(keys: string[]): Promise<Array<T | undefined>> {
    const values = await Promise.all(keys.map((key) => this.cache.get<T>(key)));
    this.events.emit('mget', { keys, values });
    return values;
  }

  /** Stores `value` for `ttl` ms (the module's TTL when omitted, 365 days for 0) and resolves to it. */
  async set<T>(key: string, value: T, ttl?: number): Promise<T> {
    try {
      await this.cache.set(key, value, { ttl: compatTtl('set(key, value, ttl)', ttl) });
    } catch (error) {
      this.events.emit('set', { key, value, error });
      throw error;
    }
    this.events.emit('set', { key, value });
    return value;
  }

  async mset<T>(
    list: Array<{ key: string; value: T; ttl?: number }>,
  ): Promise<Array<{ key: string; value: T; ttl?: number }>> {
    list.forEach(({ ttl }, i) => compatTtl(`mset(list)[${i}].ttl`, ttl));
    try {
      await Promise.all(list.map(({ key, value, ttl }) => this.cache.set(key, value, { ttl: compatTtl('ttl', ttl) })));
    } catch (error) {
      this.events.emit('mset', { list, error });
      throw error;
    }
    this.events.emit('mset', { list });
    return list;
  }

  async del(key: string): Promise<boolean> {
    await this.cache.del(key);
    this.events.emit('del', { key });
    return true;
  }

  async mdel(keys: string[]): Promise<boolean> {
    await this.cache.del(keys);
    this.events.emit('mdel', { keys });
    return true;
  }

  /**
   * Drops every entry of the namespace, on every instance (see `MultiLevelCache.clear`); false when L2 could not be
   * cleared (Redis failed, or a Keyv store as L2).
   */
  async clear(): Promise<boolean> {
    const cleared = await this.cache.clear();
    this.events.emit('clear');
    return cleared;
  }

  /** When the entry expires (ms since the epoch), as cache-manager's `ttl`, or `undefined` on a miss. */
  async ttl(key: string): Promise<number | undefined> {
    const expires = await this.cache.expiresAt(key);
    this.events.emit('ttl', { key, value: expires });
    return expires;
  }

  /**
   * The cached value, else `fn()` run once for all concurrent callers of the key (on every instance sharing the
   * Redis, under a lease), stored for `ttl` ms. With `refreshThreshold`, a hit with less TTL left than that is
   * refreshed in the background (one refresh per key at a time) and the current value is returned.
   */
  wrap<T>(key: string, fn: () => T | Promise<T>, ttl?: PerValue<T>, refreshThreshold?: PerValue<T>): Promise<T>;
  wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    options: CacheWrapCompatOptions<T> & { raw: true },
  ): Promise<CacheRawEntry<T>>;
  wrap<T>(key: string, fn: () => T | Promise<T>, options: CacheWrapCompatOptions<T>): Promise<T>;
  async wrap<T>(
    key: string,
    fn: () => T | Promise<T>,
    ttlOrOptions?: PerValue<T> | CacheWrapCompatOptions<T>,
    refreshThresholdArgument?: PerValue<T>,
  ): Promise<T | CacheRawEntry<T>> {
    const { ttl, refreshThreshold, raw } =
      typeof ttlOrOptions === 'object' && ttlOrOptions !== null
        ? ttlOrOptions
        : { ttl: ttlOrOptions, refreshThreshold: refreshThresholdArgument, raw: false };
    const fixedTtl = typeof ttl === 'function' ? undefined : compatTtl('wrap(key, fn, ttl)', ttl);
    if (typeof refreshThreshold === 'number') checkCompatTtl('wrap(key, fn, ttl, refreshThreshold)', refreshThreshold);
    const threshold = refreshThreshold ?? this.options.refreshThreshold;
    const hit = this.cache.peek(key);
    if (hit !== undefined) {
      const value = hit.value as T;
      const left = hit.freshUntil - performance.now();
      if (threshold !== undefined && left < perValue(threshold, value, 'refreshThreshold'))
        this.refresh(key, fn, ttl, value);
      return raw ? { value, expires: Math.round(Date.now() + left) } : value;
    }
    let loaded = false;
    const value = await this.cache.wrap(
      key,
      async () => {
        const result = await fn();
        loaded = true;
        return result;
      },
      { ttl: fixedTtl, lease: true },
    );
    if (loaded) {
      if (typeof ttl === 'function') await this.cache.set(key, value, { ttl: this.ttlFor(ttl, value) });
      this.events.emit('set', { key, value });
    }
    if (!raw) return value;
    const entry = this.cache.peek(key);
    return { value, expires: entry && Math.round(Date.now() + entry.freshUntil - performance.now()) };
  }

  on(event: CacheEventName, listener: CacheListener): EventEmitter {
    return this.events.addListener(event, listener as (...args: unknown[]) => void);
  }

  off(event: CacheEventName, listener: CacheListener): EventEmitter {
    return this.events.removeListener(event, listener as (...args: unknown[]) => void);
  }

  /** Resolves at once: the connections belong to the Nest application, which closes them at shutdown. */
  async disconnect(): Promise<undefined> {
    return undefined;
  }

  cacheId(): string {
    return this.options.cacheId;
  }

  private refresh<T>(key: string, fn: () => T | Promise<T>, ttl: PerValue<T> | undefined, current: T): void {
    if (this.refreshing.has(key)) return;
    this.refreshing.add(key);
    void (async () => {
      try {
        const value = await fn();
        await this.cache.set(key, value, { ttl: this.ttlFor(ttl, value) });
        this.events.emit('refresh', { key, value });
      } catch (error) {
        this.events.emit('refresh', { key, value: current, error });
      } finally {
        this.refreshing.delete(key);
      }
    })();
  }

  private ttlFor<T>(ttl: PerValue<T> | undefined, value: T): number | undefined {
    return compatTtl('wrap(key, fn, ttl)', typeof ttl === 'function' ? ttl(value) : ttl);
  }
}

function perValue<T>(setting: PerValue<T>, value: T, option: string): number {
  const ms = typeof setting === 'function' ? setting(value) : setting;
  checkCompatTtl(`wrap(key, fn, ttl, ${option})`, ms);
  return ms;
}
