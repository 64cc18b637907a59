import type { Flight } from '../coordination/key-coordinator.js';
import { NO_REFRESH, type L1Entry } from '../l1/l1-store.js';
import type { CallBudget } from '../redis/call-budget.js';
import type { StoredEntry } from '../redis/redis-tier.js';
import type { CacheContext, LoadMode } from './cache-context.js';
import type { CallOptions } from './call-options.js';
import type { EntryStore } from './entry-store.js';
import type { KeyLoader } from './key-loader.js';

/**
 * Eager refresh (`refreshAhead`): a hot entry read past its refresh point is refreshed in the background before it
 * expires, once per key on this instance (the coordinator) and across instances (the key's lease), reading Redis
 * first and again under the lease: another instance may have refreshed it already. @internal
 */
export class EagerRefresh {
  constructor(
    private readonly ctx: CacheContext,
    private readonly entries: EntryStore,
    private readonly loader: KeyLoader,
  ) {}

  /**
   * Starts the refresh when `hit` is due. The entry is marked so later hits do not check again; a refresh elsewhere
   * announces its write, which drops this copy.
   */
  refreshIfDue(key: string, hit: L1Entry, loader: () => unknown, call: CallOptions): void {
    if (hit.refreshAt > performance.now()) return;
    hit.refreshAt = NO_REFRESH;
    const { keys, background, logger } = this.ctx;
    const refresh = keys.refresh(key, call.tags, (flight) => this.refresh(key, hit.value, loader, call, flight));
    if (!refresh) return;
    refresh.catch((error: unknown) => {
      logger.debug?.(`Eager refresh of "${key}" failed; the value stays until it expires: ${String(error)}`);
    });
    background.track(refresh);
  }

  /** Resolves with the refreshed value, or `current` (still fresh) when another instance refreshes it. */
  private async refresh(
    key: string,
    current: unknown,
    loader: () => unknown,
    call: CallOptions,
    flight: Flight,
  ): Promise<unknown> {
    const { keys, l2, bus, counters, background } = this.ctx;
    const start = keys.begin();
    const budget = this.entries.budget();
    const announce = bus?.announcement({ k: [key] });
    const mode: LoadMode = { awaitL2: true, start, flight, expect: undefined, budget, announce };
    if (!l2) {
      counters.eager++;
      return this.loader.load(key, loader, call, undefined, mode);
    }
    const seen = await l2.read(key, budget, call.limits);
    if (seen !== undefined && (await this.refreshedElsewhere(seen, call, budget))) {
      this.entries.backfill(key, seen, start, call.refreshAhead);
      return seen.value;
    }
    const token = this.loader.leaseToken();
    const got = await l2.tryLease(key, token, this.ctx.options.lease.ttlMs, budget);
    if (got === false) return current;
    try {
      const entry = got ? await l2.read(key, budget, call.limits) : seen;
      if (got && entry !== undefined && (await this.refreshedElsewhere(entry, call, budget))) {
        this.entries.backfill(key, entry, start, call.refreshAhead);
        return entry.value;
      }
      counters.eager++;
      return await this.loader.load(key, loader, call, undefined, { ...mode, expect: entry?.raw ?? null });
    } finally {
      if (got) background.track(this.loader.endLease(key, token));
    }
  }

  /** Whether Redis holds a value of the key that is not due for a refresh yet. */
  private async refreshedElsewhere(
    entry: StoredEntry,
    call: CallOptions,
    budget: CallBudget | undefined,
  ): Promise<boolean> {
    const due = entry.writtenAt + (entry.freshUntil - entry.writtenAt) * call.refreshAhead;
    return due > Date.now() && (await this.entries.fresh(entry, call.tags, undefined, budget));
  }
}
