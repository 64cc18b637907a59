import type { Announcement, L2Tier, WriteOptions } from '../l2/l2-tier.js';
import type { CallBudget } from '../redis/call-budget.js';
import type { ReaderLimits, StoredEntry, TagVersions } from '../redis/record-format.js';
import type { CacheTelemetry } from './cache-telemetry.js';

/**
 * The L2 tier with each operation timed into `nest_scale.cache.l2.operation.duration` {operation}. Put in front of the
 * tier only when a MeterProvider is registered, so a cache without an SDK pays nothing for it. @internal
 */
export class InstrumentedL2Tier implements L2Tier {
  constructor(
    private readonly tier: L2Tier,
    private readonly telemetry: CacheTelemetry,
  ) {}

  get cluster(): unknown {
    return this.tier.cluster;
  }

  get errors(): number {
    return this.tier.errors;
  }

  get breakerState(): L2Tier['breakerState'] {
    return this.tier.breakerState;
  }

  start(): Promise<void> {
    return this.tier.start();
  }

  close(): Promise<void> {
    return this.tier.close();
  }

  read(key: string, budget?: CallBudget, limits?: ReaderLimits): Promise<StoredEntry | undefined> {
    return this.timed('read', this.tier.read(key, budget, limits));
  }

  write(
    key: string,
    valueText: string,
    freshUntil: number,
    staleUntil: number,
    keepUntil: number,
    tags: readonly string[] | undefined,
    versions: TagVersions | undefined,
    options?: WriteOptions,
  ): Promise<boolean> {
    return this.timed(
      'write',
      this.tier.write(key, valueText, freshUntil, staleUntil, keepUntil, tags, versions, options),
    );
  }

  remove(keys: readonly string[], tombstoneMs: number, announce?: Announcement, budget?: CallBudget) {
    return this.timed('remove', this.tier.remove(keys, tombstoneMs, announce, budget));
  }

  clear(): Promise<boolean> {
    return this.timed('clear', this.tier.clear());
  }

  tagVersions(tags: readonly string[], budget?: CallBudget): Promise<TagVersions | undefined> {
    return this.timed('tag_versions', this.tier.tagVersions(tags, budget));
  }

  bumpTags(tags: readonly string[], announce?: Announcement, budget?: CallBudget): Promise<boolean> {
    return this.timed('bump_tags', this.tier.bumpTags(tags, announce, budget));
  }

  tryLease(key: string, token: string, ttlMs: number, budget?: CallBudget): Promise<boolean | undefined> {
    return this.timed('try_lease', this.tier.tryLease(key, token, ttlMs, budget));
  }

  releaseLease(key: string, token: string, budget?: CallBudget): Promise<void> {
    return this.timed('release_lease', this.tier.releaseLease(key, token, budget));
  }

  /** The tiers never reject (they fail open), so only settled results are timed. */
  private async timed<T>(operation: string, work: Promise<T>): Promise<T> {
    const began = performance.now();
    const result = await work;
    this.telemetry.l2Done(operation, (performance.now() - began) / 1000);
    return result;
  }
}
