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
  tags: readonly string[] | undefined;
  /** Approximate bytes (UTF-16 length of the encoded value), counted only when `l1.maxSizeBytes` is set. */
  size: number;
}

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
   * `l1.offlineTtl` while `offline` (the bus cannot tell us about writes elsewhere).
   */
  set(
    key: string,
    value: unknown,
    freshFor: number,
    staleFor: number,
    tags: readonly string[] | undefined,
    size: number,
    offline: boolean,
  ): void {
    let lifetime = Math.min(staleFor, this.options.ttl);
    if (offline) lifetime = Math.min(lifetime, this.options.offlineTtl);
    if (!(lifetime >= 1)) return;
    const now = performance.now();
    const entry: L1Entry = {
      value,
      freshUntil: now + Math.min(freshFor, lifetime),
      staleUntil: now + lifetime,
      tags,
      size: Math.max(1, size * 2),
    };
    this.lru.set(key, entry, { ttl: Math.ceil(lifetime) });
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

  /** The bus went down: what L1 holds lives at most `offlineTtl` more. */
  shorten(): void {
    const until = performance.now() + this.options.offlineTtl;
    // Snapshot first: re-setting moves entries, which would disturb a live iteration.
    for (const [key, entry] of Array.from(this.lru.entries())) {
      if (entry.staleUntil <= until) continue;
      entry.freshUntil = Math.min(entry.freshUntil, until);
      entry.staleUntil = until;
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
