import type { CacheTelemetry } from '../telemetry/cache-telemetry.js';
import type { Logger } from '@nestjs/common';
import type { BackgroundWork } from '../coordination/background-work.js';
import type { Fallback } from '../coordination/fail-safe.js';
import type { Flight, KeyCoordinator } from '../coordination/key-coordinator.js';
import type { L1Store } from '../l1/l1-store.js';
import type { ResolvedOptions } from '../multi-level-cache.options.js';
import type { CallBudget } from '../redis/call-budget.js';
import type { InvalidationBus } from '../redis/invalidation-bus.js';
import type { Announcement, L2Tier, WriteCondition } from '../l2/l2-tier.js';

/** Counters behind `stats()`, each incremented by the one part that owns the event. @internal */
export interface CacheCounters {
  l1: number;
  l2: number;
  /** Stale answers from L1 and from L2 (grace); `stats().staleHits` is their sum. */
  l1Stale: number;
  l2Stale: number;
  /** Lookups that went past L1 without an answer there. */
  l1Misses: number;
  misses: number;
  loaderCalls: number;
  loaderErrors: number;
  eager: number;
}

/** What the parts of one cache share: its options, tiers and coordination state (created by the service). @internal */
export interface CacheContext {
  readonly telemetry: CacheTelemetry;
  readonly options: ResolvedOptions;
  readonly l1: L1Store | undefined;
  readonly l2: L2Tier | undefined;
  readonly bus: InvalidationBus | undefined;
  readonly keys: KeyCoordinator;
  readonly background: BackgroundWork;
  readonly counters: CacheCounters;
  readonly logger: Logger;
}

/** How a load or write stores its result. @internal */
export interface StoreMode {
  /** `KeyCoordinator.begin()` when the operation started (L1 fencing). */
  start: number;
  /** The flight doing the work; a detached one writes nothing. */
  flight?: Flight;
  /** What the key held in Redis when the work read it (see `WriteCondition`). */
  expect: WriteCondition;
  budget: CallBudget | undefined;
  announce?: Announcement;
}

/** @internal */
export interface LoadMode extends StoreMode {
  /** The Redis write is part of the call (lease holders, refreshes) rather than in the background. */
  awaitL2: boolean;
  /** The key's last known value, answered if the loader fails or passes the soft timeout. */
  fallback?: Fallback;
}
