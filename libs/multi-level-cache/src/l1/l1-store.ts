import { LRUCache } from 'lru-cache';
import type { ResolvedOptions } from '../multi-level-cache.options.js';

/**
 * An L1 entry: the decoded value itself (returned by reference), with its freshness on the monotonic clock
 * (`performance.now()`), so wall-clock steps neither expire nor extend it. @internal
 */
export interface L1Entry {
  value: unknown;
  freshUntil: number;
  /** Later than `freshUntil` only for entries with a grace period. */
  staleUntil: number;
  /**
   * When the LRU drops the entry: `staleUntil` plus the fail-safe retention. Differs from `freshUntil` only for entries
   * that must be checked against the clock on a hit (the LRU's own expiry covers the others).
   */
  keepUntil: number;
  /** Where its fail-safe window starts: `staleUntil` as stored (a bus-gap cut does not move it). */
  endedAt: number;
  /** When a read should refresh it ahead of expiry (`refreshAhead`); `NO_REFRESH` when off or already started. */
  refreshAt: number;
  tags: readonly string[] | undefined;
  /** Approximate bytes (UTF-16 length of the encoded value), counted only when `l1.maxSizeBytes` is set. */
  size: number;
  /**
   * A promise fulfilled with `value`, made on the first hit that returns one and handed to every later one: resolving
   * an object looks up its `then` on every call, the largest part of an L1 hit's cost.
   */
  resolved: Promise<unknown> | undefined;
}

/** `refreshAt` of an entry that needs no eager refresh. @internal */
export const NO_REFRESH = Number.POSITIVE_INFINITY;

/** The in-process tier: an LRU of decoded values plus the index of their tags. @internal */
export class L1Store {
  private readonly lru: LRUCache<string, L1Entry>;
  private readonly tagIndex = new Map<string, Set<string>>();

  constructor(private readonly options: NonNullable<ResolvedOptions['l1']>) {
    this.lru = new LRUCache<string, L1Entry>({
      max: options.maxEntries,
      ...(options.maxSizeBytes === undefined
        ? {}
        : { maxSize: options.maxSizeBytes, sizeCalculation: (entry) => entry.size }),
      dispose: (entry, key) => this.unindex(key, entry),
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /** Whether entries are sized (then callers measure values they put in). */
  get measuresSize(): boolean {
    return this.options.maxSizeBytes !== undefined;
  }

  /** The entry, fresh or stale: one LRU lookup (the hot path). */
  get(key: string): L1Entry | undefined {
    return this.lru.get(key);
  }

  /**
   * Stores a value fresh for `freshFor` and servable for `staleFor` ms from now, within `l1.ttl`, and within
   * `l1.offlineTtl` while `offline` (the bus cannot tell us about writes elsewhere). It is kept `keepFor` ms more as
   * the key's last known value for fail-safe answers (the offline cut does not shorten that), and should be refreshed
   * eagerly after `refreshFor` ms (`NO_REFRESH`: never).
   */
  set(
    key: string,
    value: unknown,
    freshFor: number,
    staleFor: number,
    tags: readonly string[] | undefined,
    size: number,
    offline: boolean,
    keepFor: number,
    refreshFor: number,
  ): void {
    const bounded = Math.min(staleFor, this.options.ttl);
    const lifetime = offline ? Math.min(bounded, this.options.offlineTtl) : bounded;
    const kept = keepFor > 0 ? Math.max(lifetime, bounded + keepFor) : lifetime;
    if (!(kept >= 1)) return;
    const now = performance.now();
    const freshUntil = now + Math.min(freshFor, lifetime);
    const entry: L1Entry = {
      value,
      freshUntil,
      staleUntil: now + lifetime,
      keepUntil: now + kept,
      endedAt: now + bounded,
      refreshAt: refreshFor < freshFor ? now + refreshFor : NO_REFRESH,
      tags,
      size: Math.max(1, size * 2),
      resolved: undefined,
    };
    this.lru.set(key, entry, { ttl: Math.ceil(kept) });
    if (tags) {
      for (const tag of tags) {
        let keys = this.tagIndex.get(tag);
        if (!keys) this.tagIndex.set(tag, (keys = new Set()));
        keys.add(key);
      }
    }
  }

  delete(key: string): boolean {
    return this.lru.delete(key);
  }

  deleteTagged(tags: readonly string[]): void {
    for (const tag of tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      for (const key of Array.from(keys)) this.lru.delete(key);
    }
  }

  /**
   * The bus went down: what L1 holds is served at most `offlineTtl` more. Entries kept for fail-safe stay until their
   * `keepUntil`, as last known values only.
   */
  shorten(): void {
    const now = performance.now();
    const until = now + this.options.offlineTtl;
    // Snapshot first: re-setting moves entries, which would disturb a live iteration.
    for (const [key, entry] of Array.from(this.lru.entries())) {
      if (entry.staleUntil <= until) continue;
      entry.freshUntil = Math.min(entry.freshUntil, until);
      entry.staleUntil = until;
      // Kept for fail-safe: the LRU still holds it until `keepUntil`.
      if (entry.keepUntil > entry.endedAt) continue;
      entry.keepUntil = until;
      // Same entry object: lru-cache only updates its TTL (no dispose).
      this.lru.set(key, entry, { ttl: this.options.offlineTtl });
    }
  }

  clear(): void {
    this.lru.clear();
    this.tagIndex.clear();
  }

  private unindex(key: string, entry: L1Entry): void {
    if (!entry.tags) return;
    for (const tag of entry.tags) {
      const keys = this.tagIndex.get(tag);
      if (!keys) continue;
      keys.delete(key);
      if (keys.size === 0) this.tagIndex.delete(tag);
    }
  }
}
