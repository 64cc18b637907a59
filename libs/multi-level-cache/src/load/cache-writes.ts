import { encodeValue } from '../codec/value-codec.js';
import type { CacheSetOptions } from '../interfaces/cache-call-options.interface.js';
import { invalidOption } from '../multi-level-cache.options.js';
import type { CacheContext } from './cache-context.js';
import { isStringArray, resolveCallOptions } from './call-options.js';
import type { EntryStore } from './entry-store.js';

/**
 * Writes and invalidations (`set`, `del`, `invalidateTags`, `clear`): each fences the keys it touches in the
 * `KeyCoordinator` first, then changes both tiers and tells the other instances, in the same Redis step when it can.
 * @internal
 */
export class CacheWrites {
  constructor(
    private readonly ctx: CacheContext,
    private readonly entries: EntryStore,
  ) {}

  async set(key: string, value: unknown, options: CacheSetOptions): Promise<void> {
    const { keys, l2, bus } = this.ctx;
    const call = resolveCallOptions(options, this.ctx.options, false);
    const text = encodeValue(value);
    keys.invalidateKeys([key]);
    const start = keys.begin();
    const budget = this.entries.budget();
    const versions = call.tags && l2 ? await l2.tagVersions(call.tags, budget) : undefined;
    const announce = bus?.announcement({ k: [key] });
    let announced: boolean;
    if (l2 && call.tags && versions === undefined) {
      // Tag versions unknown: the new value cannot be stored invalidatably, and the old one must not be reloaded.
      this.entries.storeL1(key, value, text, call, start);
      announced = (await l2.remove([key], this.tombstoneMs(), announce, budget)) && announce !== undefined;
    } else {
      const mode = { start, expect: undefined, budget, announce };
      announced = await this.entries.store(key, value, text, call, versions, mode);
    }
    if (announced) this.noteAnnounced();
    else await bus?.publish({ k: [key] }, budget);
  }

  async del(key: string | readonly string[]): Promise<void> {
    const { l1, l2, bus } = this.ctx;
    const keys = typeof key === 'string' ? [key] : isStringArray(key) ? [...key] : invalidKeys(key);
    if (keys.length === 0) return;
    this.ctx.keys.invalidateKeys(keys);
    for (const k of keys) l1?.delete(k);
    const budget = this.entries.budget();
    if (await l2?.remove(keys, this.tombstoneMs(), bus?.announcement({ k: keys }), budget)) this.noteAnnounced();
    // On a cluster the key's master may be down while others relay messages: still tell the other instances.
    else if (l2?.cluster) await bus?.publish({ k: keys }, budget);
  }

  async invalidateTags(tags: readonly string[]): Promise<void> {
    const { l2, bus } = this.ctx;
    if (!isStringArray(tags)) invalidOption('tags', tags, 'an array of strings');
    if (tags.length === 0) return;
    this.dropTagged(tags);
    const budget = this.entries.budget();
    if (await l2?.bumpTags(tags, bus?.announcement({ t: [...tags] }), budget)) this.noteAnnounced();
    else if (l2?.cluster) await bus?.publish({ t: [...tags] }, budget);
  }

  async clear(): Promise<boolean> {
    const { l2, bus } = this.ctx;
    this.flushL1();
    const cleared = l2 === undefined || (await l2.clear());
    // Loads that started during the scan may have filled L1 from records it had not reached yet.
    this.flushL1();
    await bus?.publish({ c: 1 }, this.entries.budget());
    return cleared;
  }

  /** Drops the tagged entries from this instance's L1 (and fences loads of them). */
  dropTagged(tags: readonly string[]): void {
    this.ctx.keys.invalidateTags(tags);
    this.ctx.l1?.deleteTagged(tags);
  }

  /** Empties this instance's L1 (and fences every load in flight). */
  flushL1(): void {
    this.ctx.keys.invalidateAll();
    this.ctx.l1?.clear();
  }

  private noteAnnounced(): void {
    if (this.ctx.bus) this.ctx.bus.published++;
  }

  /** Long enough to outlast a load that started before the delete (it may wait for a lease, then load). */
  private tombstoneMs(): number {
    const { options } = this.ctx;
    return Math.max(options.ttl, options.lease.ttlMs + options.lease.waitMs);
  }
}

function invalidKeys(key: unknown): never {
  return invalidOption('key', key, 'a string or an array of strings');
}
