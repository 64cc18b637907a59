import { encodeValue } from '../codec/value-codec.js';
import { FailSafe, type Fallback } from '../coordination/fail-safe.js';
import type { FillWaiters } from '../coordination/fill-waiters.js';
import type { Flight } from '../coordination/key-coordinator.js';
import type { L2Tier, WriteCondition } from '../l2/l2-tier.js';
import type { TagVersions } from '../redis/record-format.js';
import type { CacheContext, LoadMode } from './cache-context.js';
import type { CallOptions } from './call-options.js';
import type { EntryStore } from './entry-store.js';

/**
 * The slow path of `wrap`/`@Cached` for one key: L1 (fresh, stale in grace, or kept for fail-safe), then Redis, then
 * the loader: under the cluster-wide lease or not, with grace refreshes in the background, and the fail-safe answer
 * when the loader fails or passes its soft timeout. @internal
 */
export class KeyLoader {
  readonly failSafe: FailSafe;
  private leaseSeq = 0;

  constructor(
    private readonly ctx: CacheContext,
    private readonly entries: EntryStore,
    private readonly fillWaiters: FillWaiters,
  ) {
    this.failSafe = new FailSafe(ctx.logger, ctx.background);
  }

  /** Shared by concurrent callers of the key: they join one flight. */
  resolve(key: string, loader: () => unknown, call: CallOptions): Promise<unknown> {
    return this.ctx.keys.load(key, call.tags, (flight) => this.resolveOnce(key, loader, call, flight));
  }

  /** Runs the loader and stores its result; answers `mode.fallback` instead if the loader fails or is too slow. */
  load(
    key: string,
    loader: () => unknown,
    call: CallOptions,
    knownVersions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const loading = this.loadAndStore(key, loader, call, knownVersions, mode);
    return mode.fallback ? this.guard(key, loading, mode.fallback, call, mode.flight) : loading;
  }

  leaseToken(): string {
    return `${this.ctx.bus?.origin ?? 'local'}:${++this.leaseSeq}`;
  }

  async endLease(key: string, token: string): Promise<void> {
    await this.ctx.l2?.releaseLease(key, token);
    await this.ctx.bus?.publish({ f: key });
  }

  private async resolveOnce(key: string, loader: () => unknown, call: CallOptions, flight: Flight): Promise<unknown> {
    const { keys, l1, l2, counters } = this.ctx;
    const start = keys.begin();
    const local = l1?.get(key);
    let fallback: Fallback | undefined;
    if (local !== undefined) {
      const now = performance.now();
      if (local.freshUntil >= now) {
        counters.l1++;
        flight.outcome = 'hit';
        return local.value;
      }
      if (local.staleUntil > now) {
        counters.l1Stale++;
        flight.outcome = 'stale';
        this.refreshInBackground(key, loader, call, undefined);
        return local.value;
      }
      // Past its TTL and grace, kept as the last known value.
      if (call.failSafeMaxMs > 0 && now <= local.endedAt + call.failSafeMaxMs) fallback = local;
    }
    counters.l1Misses++;
    const budget = this.entries.budget();
    let versions: TagVersions | undefined;
    let expect: WriteCondition = null;
    if (l2) {
      const [entry, current] = await Promise.all([
        l2.read(key, budget, call.limits),
        call.tags ? l2.tagVersions(call.tags, budget) : undefined,
      ]);
      versions = current;
      expect = entry?.raw ?? null;
      // Redis answered: only what it holds may be the last known value (a tombstone of a `del` stops the L1 copy).
      if (entry !== undefined) fallback = undefined;
      if (entry?.usable && (await this.entries.tagsCurrent(entry, call.tags, current, budget))) {
        const now = Date.now();
        if (entry.freshUntil >= now) {
          counters.l2++;
          flight.outcome = 'hit';
          this.entries.backfill(key, entry, start);
          return entry.value;
        }
        if (entry.staleUntil > now) {
          counters.l2Stale++;
          flight.outcome = 'stale';
          this.entries.backfill(key, entry, start);
          this.refreshInBackground(key, loader, call, entry.raw);
          return entry.value;
        }
        if (call.failSafeMaxMs > 0 && now < entry.keepUntil && now <= entry.staleUntil + call.failSafeMaxMs)
          fallback = entry;
      }
    }
    counters.misses++;
    const refresh = keys.refreshing(key);
    if (refresh) return fallback ? this.guard(key, refresh, fallback, call, flight) : refresh;
    const mode: LoadMode = { awaitL2: false, start, flight, expect, budget, fallback };
    if (call.lease && l2 && (this.ctx.bus === undefined || this.ctx.bus.live))
      return this.loadUnderLease(l2, key, loader, call, versions, mode);
    return this.load(key, loader, call, versions, mode);
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
      if (late) this.ctx.keys.refresh(key, call.tags, () => loading);
    });
  }

  private async loadAndStore(
    key: string,
    loader: () => unknown,
    call: CallOptions,
    knownVersions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const { l2, counters } = this.ctx;
    const { budget } = mode;
    const versions = knownVersions ?? (call.tags && l2 ? await l2.tagVersions(call.tags, budget) : undefined);
    counters.loaderCalls++;
    let value: unknown;
    const began = performance.now();
    try {
      // The loader's time is not Redis time: it does not use up the call's budget.
      value = budget ? await budget.outside(loader) : await loader();
    } catch (error) {
      counters.loaderErrors++;
      this.ctx.telemetry.loaderDone((performance.now() - began) / 1000, error);
      throw error;
    }
    this.ctx.telemetry.loaderDone((performance.now() - began) / 1000);
    const text = encodeValue(value);
    const stored = this.entries.store(key, value, text, call, versions, mode);
    if (mode.awaitL2) await stored;
    else this.ctx.background.track(stored);
    return value;
  }

  private async loadUnderLease(
    l2: L2Tier,
    key: string,
    loader: () => unknown,
    call: CallOptions,
    versions: TagVersions | undefined,
    mode: LoadMode,
  ): Promise<unknown> {
    const { start, budget } = mode;
    const { ttlMs, waitMs, pollMs } = this.ctx.options.lease;
    const token = this.leaseToken();
    const deadline = performance.now() + waitMs;
    for (;;) {
      const got = await l2.tryLease(key, token, ttlMs, budget);
      if (got === undefined) return this.load(key, loader, call, versions, mode);
      if (got) {
        let loading: Promise<unknown> | undefined;
        try {
          // Another instance may have filled the key between our read and the lease.
          const entry = await l2.read(key, budget, call.limits);
          if (entry !== undefined && (await this.entries.fresh(entry, call.tags, versions, budget))) {
            this.entries.backfill(key, entry, start);
            return entry.value;
          }
          // Waiters read Redis when woken: the write is part of the lease.
          loading = this.loadAndStore(key, loader, call, versions, {
            ...mode,
            awaitL2: true,
            expect: entry?.raw ?? null,
          });
          return await (mode.fallback ? this.guard(key, loading, mode.fallback, call, mode.flight) : loading);
        } finally {
          // Held until the load has written, a late one (past the soft timeout) included. Not part of the call's
          // latency: the lease expires by itself if this fails.
          const release = () => this.endLease(key, token);
          this.ctx.background.track(loading ? loading.then(release, release) : release());
        }
      }
      const left = deadline - performance.now();
      if (left <= 0) return this.load(key, loader, call, versions, mode);
      const wait = () => this.fillWaiters.wait(key, Math.min(pollMs, left));
      await (budget ? budget.outside(wait) : wait());
      const entry = await l2.read(key, budget, call.limits);
      if (entry !== undefined && (await this.entries.fresh(entry, call.tags, undefined, budget))) {
        this.ctx.counters.l2++;
        this.entries.backfill(key, entry, start);
        return entry.value;
      }
      mode.expect = entry?.raw ?? null;
    }
  }

  /**
   * One background refresh per key. `seen` is the Redis record the stale value came from; a refresh of an L1 entry
   * reads Redis first (another instance may have refreshed already). Either way it writes only over that record.
   */
  private refreshInBackground(key: string, loader: () => unknown, call: CallOptions, seen: string | undefined): void {
    const { keys, l2, bus, background, logger } = this.ctx;
    const refresh = keys.refresh(key, call.tags, async (flight) => {
      const start = keys.begin();
      const budget = this.entries.budget();
      let expect: WriteCondition = seen ?? null;
      if (seen === undefined && l2) {
        const entry = await l2.read(key, budget, call.limits);
        if (entry !== undefined && (await this.entries.fresh(entry, call.tags, undefined, budget))) {
          this.entries.backfill(key, entry, start);
          return entry.value;
        }
        expect = entry?.raw ?? null;
      }
      const announce = bus?.announcement({ k: [key] });
      return this.load(key, loader, call, undefined, { awaitL2: true, start, flight, expect, budget, announce });
    });
    if (!refresh) return;
    refresh.catch((error: unknown) => {
      logger.debug?.(`Refresh of "${key}" failed; the stale value stays until its grace period ends: ${String(error)}`);
    });
    background.track(refresh);
  }
}
