import type { L2BreakerState } from '../interfaces/cache-stats.interface.js';
import type { CallBudget } from '../redis/call-budget.js';
import type { ReaderLimits, StoredEntry, TagVersions } from '../redis/record-format.js';

/**
 * How a write treats what the key holds: `undefined` overwrites (a `set`), `null` writes only if the key is absent,
 * a string writes only if the key still holds exactly that record. @internal
 */
export type WriteCondition = string | null | undefined;

/** A bus message to publish in the same transaction as a write, so subscribers see it only after the write. */
export interface Announcement {
  channel: string;
  message: string;
}

/** Options of a write. @internal */
export interface WriteOptions {
  announce?: Announcement;
  expect?: WriteCondition;
  budget?: CallBudget;
}

/**
 * The shared tier behind L1: Redis (`RedisTier`, with atomic conditional writes, leases and the bus) or any Keyv store
 * (`KeyvStoreTier`: records and tags only). Every operation is bounded and fails open (`undefined`/`false`). @internal
 */
export interface L2Tier {
  /** Set on a Redis Cluster (keys of several slots cannot share a transaction). */
  readonly cluster: unknown;
  readonly errors: number;
  readonly breakerState: L2BreakerState;
  start(): Promise<void>;
  close(): Promise<void>;
  read(key: string, budget?: CallBudget, limits?: ReaderLimits): Promise<StoredEntry | undefined>;
  write(
    key: string,
    valueText: string,
    freshUntil: number,
    staleUntil: number,
    keepUntil: number,
    tags: readonly string[] | undefined,
    versions: TagVersions | undefined,
    options?: WriteOptions,
  ): Promise<boolean>;
  remove(keys: readonly string[], tombstoneMs: number, announce?: Announcement, budget?: CallBudget): Promise<boolean>;
  /** Deletes every entry of the namespace; false when it could not (Redis failed, or the store cannot list keys). */
  clear(): Promise<boolean>;
  tagVersions(tags: readonly string[], budget?: CallBudget): Promise<TagVersions | undefined>;
  bumpTags(tags: readonly string[], announce?: Announcement, budget?: CallBudget): Promise<boolean>;
  /** true: lease taken; false: held by someone else; undefined: no lease could be had (load without one). */
  tryLease(key: string, token: string, ttlMs: number, budget?: CallBudget): Promise<boolean | undefined>;
  releaseLease(key: string, token: string, budget?: CallBudget): Promise<void>;
}
