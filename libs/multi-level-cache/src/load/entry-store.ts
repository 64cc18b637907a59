import { encodeValue } from '../codec/value-codec.js';
import { NO_REFRESH } from '../l1/l1-store.js';
import { CallBudget } from '../redis/call-budget.js';
import type { StoredEntry, TagVersions } from '../redis/redis-tier.js';
import type { CacheContext, StoreMode } from './cache-context.js';
import type { CallOptions } from './call-options.js';

/**
 * Puts values into the tiers: a loaded or `set` value into L1 and Redis, a Redis hit back into L1, each fenced by the
 * `KeyCoordinator` and written to Redis under the load's condition; and tells whether an entry's tags are current.
 * @internal
 */
export class EntryStore {
  constructor(private readonly ctx: CacheContext) {}

  /** Writes L1 (unless fenced) and Redis (under `mode.expect`); resolves whether the write was announced. */
  async store(
    key: string,
    value: unknown,
    text: string,
    call: CallOptions,
    versions: TagVersions | undefined,
    mode: StoreMode,
  ): Promise<boolean> {
    if (mode.flight?.detached) return false;
    const ttl = this.storeL1(key, value, text, call, mode.start);
    const { l2 } = this.ctx;
    if (!l2) return false;
    // A tagged entry whose tag versions are unknown could not be invalidated: keep it out of Redis.
    if (call.tags && versions === undefined) return false;
    const now = Date.now();
    const written = await l2.write(
      key,
      text,
      now + ttl,
      now + ttl + call.grace,
      now + ttl + call.grace + call.failSafeMaxMs,
      call.tags,
      versions,
      { announce: mode.announce, expect: mode.expect, budget: mode.budget },
    );
    return written && mode.announce !== undefined;
  }

  /** Puts a value that was just written or loaded into L1 (unless fenced); returns the TTL it got. */
  storeL1(key: string, value: unknown, text: string, call: CallOptions, start: number): number {
    const { options } = this.ctx;
    const nullTtl = value === null ? (call.nullTtl ?? options.nullTtl) : undefined;
    const baseTtl = nullTtl ?? call.ttl ?? options.ttl;
    const ttl = options.jitter > 0 ? baseTtl * (1 - Math.random() * options.jitter) : baseTtl;
    if (this.ctx.keys.unchangedSince(start, key, call.tags)) {
      const refreshFor = call.refreshAhead > 0 ? ttl * call.refreshAhead : NO_REFRESH;
      this.setL1(key, value, ttl, ttl + call.grace, call.tags, text.length, call.failSafeMaxMs, refreshFor);
    }
    return ttl;
  }

  /** A Redis hit into L1 (unless fenced), keeping what is left of its freshness, grace and fail-safe retention. */
  backfill(key: string, entry: StoredEntry, start: number, refreshAhead = this.ctx.options.refreshAhead): void {
    if (!this.ctx.keys.unchangedSince(start, key, entry.tags)) return;
    const size = this.ctx.l1?.measuresSize ? encodeValue(entry.value).length : 0;
    // Redis holds wall-clock times (they travel between hosts); L1 keeps what is left of them, monotonically.
    const now = Date.now();
    const refreshFor =
      refreshAhead > 0 ? entry.writtenAt + (entry.freshUntil - entry.writtenAt) * refreshAhead - now : NO_REFRESH;
    const keepFor = entry.keepUntil - entry.staleUntil;
    const freshFor = entry.freshUntil - now;
    this.setL1(key, entry.value, freshFor, entry.staleUntil - now, entry.tags, size, keepFor, refreshFor);
  }

  /** Whether the versions an entry was stored with are still those of its tags (undefined: Redis failed → false). */
  async tagsCurrent(
    entry: StoredEntry,
    tags: readonly string[] | undefined,
    current: TagVersions | undefined,
    budget: CallBudget | undefined,
  ): Promise<boolean> {
    if (!entry.tags || entry.tags.length === 0) return true;
    const versions =
      current && tags && sameTags(tags, entry.tags) ? current : await this.ctx.l2?.tagVersions(entry.tags, budget);
    if (!versions || !entry.versions) return false;
    return versions.every((v, i) => entry.versions?.[i] === v);
  }

  /** Whether a Redis entry is usable, fresh and still valid for its tags. */
  async fresh(
    entry: StoredEntry,
    tags: readonly string[] | undefined,
    current: TagVersions | undefined,
    budget: CallBudget | undefined,
  ): Promise<boolean> {
    return entry.usable && entry.freshUntil >= Date.now() && (await this.tagsCurrent(entry, tags, current, budget));
  }

  /** The Redis time a call may still spend, shared by all its Redis steps. */
  budget(): CallBudget | undefined {
    const { l2 } = this.ctx.options;
    return l2 ? new CallBudget(l2.timeoutMs) : undefined;
  }

  /** `freshFor`/`staleFor`/`keepFor`/`refreshFor`: milliseconds from now. */
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
    const { bus } = this.ctx;
    const offline = bus !== undefined && !bus.live;
    this.ctx.l1?.set(key, value, freshFor, staleFor, tags, size, offline, keepFor, refreshFor);
  }
}

function sameTags(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}
