import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { KeyvStoreLike } from '../interfaces/multi-level-cache-options.interface.js';
import { MALFORMED_RECORD } from '../multi-level-cache.messages.js';
import type { ResolvedOptions } from '../multi-level-cache.options.js';
import type { CallBudget } from '../redis/call-budget.js';
import { FAILED, GuardedSteps } from '../redis/guarded-steps.js';
import {
  decodeRecord,
  encodeRecord,
  tombstoneRecord,
  unusableEntry,
  type ReaderLimits,
  type StoredEntry,
  type TagVersions,
} from '../redis/record-format.js';
import type { L2Tier, WriteOptions } from './l2-tier.js';

/**
 * L2 on any Keyv store adapter (`l2: { store }`: SQLite, Postgres, Mongo, Memcache, …), under the same time budget and
 * circuit breaker as Redis. It holds the same records as the Redis tier, under Keyv's key layout
 * (`<namespace>:<key>`), and tag versions. What a generic store cannot give: atomic conditional writes (a write that
 * must not replace a newer value compares first, then writes: a race between the two can still lose to a concurrent
 * writer), expiry by the store (an expired record is deleted when read), leases (no cluster-wide single-flight:
 * each instance loads its own misses) and pub/sub (no bus: another instance's L1 keeps its copy until its TTL).
 * @internal
 */
export class KeyvStoreTier implements L2Tier {
  readonly cluster = undefined;
  private readonly steps: GuardedSteps;
  private readonly logger = new Logger('MultiLevelCache');
  private readonly warned = new Set<string>();

  constructor(
    private readonly store: KeyvStoreLike,
    options: NonNullable<ResolvedOptions['l2']>,
    private readonly namespace: string,
  ) {
    this.steps = new GuardedSteps(options);
  }

  get errors(): number {
    return this.steps.errors;
  }

  get breakerState(): L2Tier['breakerState'] {
    return this.steps.breakerState;
  }

  /** The store connects by itself on first use. */
  async start(): Promise<void> {}

  /** The store belongs to the application, which may share it: it is left open. */
  async close(): Promise<void> {}

  async read(key: string, budget?: CallBudget, limits?: ReaderLimits): Promise<StoredEntry | undefined> {
    const text = await this.steps.run(async () => this.store.get(this.entryKey(key)), budget);
    if (text === FAILED || text === undefined || text === null) return undefined;
    const entry = typeof text === 'string' ? decodeRecord(text, limits, Date.now()) : { problem: 'not a string' };
    if (entry === undefined) {
      // Expired: the store keeps what it is given until it is deleted.
      void this.steps.run(async () => this.store.delete(this.entryKey(key)));
      return undefined;
    }
    if (!('problem' in entry)) return entry;
    this.steps.errors++;
    this.warnOnce(entry.problem, MALFORMED_RECORD(this.namespace, key, entry.problem));
    return unusableEntry(String(text));
  }

  async write(
    key: string,
    valueText: string,
    freshUntil: number,
    staleUntil: number,
    keepUntil: number,
    tags: readonly string[] | undefined,
    versions: TagVersions | undefined,
    { expect, budget }: WriteOptions = {},
  ): Promise<boolean> {
    const entryKey = this.entryKey(key);
    if (expect !== undefined) {
      const current = await this.steps.run(async () => this.store.get(entryKey), budget);
      if (current === FAILED || (current ?? null) !== expect) return false;
    }
    const { text, pxMs } = encodeRecord(valueText, freshUntil, staleUntil, keepUntil, tags, versions, Date.now());
    return (await this.steps.run(async () => this.store.set(entryKey, text, pxMs), budget)) !== FAILED;
  }

  async remove(keys: readonly string[], tombstoneMs: number, _announce?: unknown, budget?: CallBudget) {
    const tombstone = tombstoneRecord(Date.now(), tombstoneMs);
    const done = await this.steps.run(
      () => Promise.all(keys.map(async (k) => this.store.set(this.entryKey(k), tombstone, tombstoneMs))),
      budget,
    );
    return done !== FAILED;
  }

  /** A generic store cannot list the namespace's keys: its entries stay until their TTL. */
  async clear(): Promise<boolean> {
    return false;
  }

  /** A tag's version is the random id its last invalidation wrote (`0` before any): no counter to increment. */
  async tagVersions(tags: readonly string[], budget?: CallBudget): Promise<TagVersions | undefined> {
    const got = await this.steps.run(() => Promise.all(tags.map(async (t) => this.store.get(this.tagKey(t)))), budget);
    return got === FAILED ? undefined : got.map((v) => (typeof v === 'string' ? v : '0'));
  }

  async bumpTags(tags: readonly string[], _announce?: unknown, budget?: CallBudget): Promise<boolean> {
    const done = await this.steps.run(
      () => Promise.all(tags.map(async (t) => this.store.set(this.tagKey(t), randomUUID()))),
      budget,
    );
    return done !== FAILED;
  }

  /** Leases need Redis: every instance loads its own misses. */
  async tryLease(): Promise<undefined> {
    return undefined;
  }

  async releaseLease(): Promise<void> {}

  /** Keyv's layout for stores that do not prefix keys themselves. */
  private entryKey(key: string): string {
    return `${this.namespace}:${key}`;
  }

  /** Apart from entries (`<namespace>:<key>`), as on Redis. */
  private tagKey(tag: string): string {
    return `{${this.namespace}}:tag:${tag}`;
  }

  private warnOnce(kind: string, message: string): void {
    if (this.warned.has(kind)) return;
    this.warned.add(kind);
    this.logger.warn(message);
  }
}
