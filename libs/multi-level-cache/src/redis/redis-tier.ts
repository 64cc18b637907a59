import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { createClient, createCluster } from '@keyv/redis';
import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import { decodeValue } from '../codec/value-codec.js';
import type { L2BreakerState } from '../interfaces/cache-stats.interface.js';
import type { ResolvedOptions } from '../multi-level-cache.options.js';

/** A single-node client; a cluster client is driven through the same command methods. @internal */
export type RedisCommands = ReturnType<typeof createClient>;
/** @internal */
export type RedisConnection = RedisCommands | ReturnType<typeof createCluster>;

/**
 * Versions of a list of tags, each `<epoch>:<count>`. The epoch belongs to the namespace and lives in the same slot as
 * the counters: if they are lost together (a master lost without a replica), a new epoch makes every version recorded
 * before different, instead of counters restarting at 0 and matching old entries again. @internal
 */
export type TagVersions = string[];

/** An entry as stored in Redis. @internal */
export interface StoredEntry {
  value: unknown;
  /** Absolute time (ms) until which the value is fresh. */
  freshUntil: number;
  /** Absolute time (ms) until which a stale value may still be served (grace); equals `freshUntil` without grace. */
  staleUntil: number;
  /** Absolute time (ms) at which Redis drops it. */
  expires: number;
  tags?: string[];
  /** Versions of `tags` when the value was loaded; the entry is valid while they are current. */
  versions?: TagVersions;
}

interface Envelope {
  v: unknown;
  f: number;
  s?: number;
  t?: string[];
  n?: TagVersions;
}

/** A bus message to publish in the same transaction as a write, so subscribers see it only after the write. */
export interface Announcement {
  channel: string;
  message: string;
}

/** Returned by guarded operations that failed, timed out or were refused by the breaker. */
export const FAILED = Symbol('l2-failed');

const RELEASE_LEASE =
  "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/**
 * Redis through the @keyv/redis client (the cache-manager 7 store stack), on one Redis or a Redis Cluster. Entries
 * are Keyv records (`<namespace>::<key>` → `{"expires":…,"value":…}`), so Keyv and cache-manager can read them; the
 * value is encoded with our type-tagged codec. They are read with a plain GET and decoded here: Keyv's own get cost
 * ~22 µs of CPU per call in our measurement, against ~2.4 µs for GET + budget + breaker + decode. Every operation
 * runs under a time budget behind a cockatiel circuit breaker; the client never queues commands while offline and
 * reconnects by itself.
 *
 * Slots on a cluster: entries and leases are single-key operations, so they spread over all masters; tag versions
 * are read together (MGET) and bumped together (MULTI), so their keys share the hash tag `{<namespace>}`.
 * @internal
 */
export class RedisTier {
  /** The connection (a cluster client when `cluster`), typed by its command methods, which both kinds share. */
  readonly client: RedisCommands;
  readonly cluster: ReturnType<typeof createCluster> | undefined;
  private readonly breaker: CircuitBreakerPolicy;
  private readonly logger = new Logger('MultiLevelCache');
  private connectedOnce = false;
  private down = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private nextNode = 0;
  errors = 0;

  constructor(
    private readonly options: NonNullable<ResolvedOptions['l2']>,
    private readonly namespace: string,
  ) {
    const socket = {
      connectTimeout: Math.max(options.connectTimeoutMs, 1_000),
      reconnectStrategy: (retries: number) => Math.min(25 * 2 ** retries, 1_000) + Math.floor(Math.random() * 25),
    };
    if (options.cluster) {
      const [first] = options.cluster;
      const { username, password, protocol } = new URL(first);
      this.cluster = createCluster({
        rootNodes: options.cluster.map((url) => ({ url })),
        defaults: {
          // Commands for a node that is down fail at once instead of waiting in its queue.
          disableOfflineQueue: true,
          ...(username ? { username: decodeURIComponent(username) } : {}),
          ...(password ? { password: decodeURIComponent(password) } : {}),
          socket: { ...socket, ...(protocol === 'rediss:' ? { tls: true as const } : {}) },
        },
      });
      this.cluster.on('error', (error: Error) => this.onConnectionError(error));
      this.cluster.on('node-error', (error: Error) => this.onConnectionError(error));
      this.cluster.on('node-ready', () => this.onReady());
      this.client = this.cluster as unknown as RedisCommands;
    } else {
      this.client = createClient({
        url: options.url,
        // Commands issued while disconnected fail at once instead of waiting in a queue (the 40 s hangs of the anchors).
        disableOfflineQueue: true,
        socket,
      });
      this.client.on('error', (error: Error) => this.onConnectionError(error));
      this.client.on('ready', () => this.onReady());
    }
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: options.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(options.breakerThreshold),
    });
  }

  /** Starts connecting; resolves when connected or after `connectTimeoutMs` (the client keeps retrying). */
  async start(): Promise<void> {
    const connecting = this.connect();
    let timer: NodeJS.Timeout | undefined;
    const gaveUp = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(false), this.options.connectTimeoutMs);
    });
    const connected = await Promise.race([connecting, gaveUp]);
    clearTimeout(timer);
    if (!connected)
      this.logger.warn(`Redis at ${this.where()} is not reachable; serving from L1 and loaders until it is.`);
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.retry);
    if (this.client.isOpen) this.client.destroy();
  }

  /**
   * A single client retries its first connection by itself; a cluster client gives up when no seed answers, so it is
   * retried here until it connects or the cache closes.
   */
  private connect(): Promise<boolean> {
    if (!this.cluster) {
      return this.client.connect().then(
        () => true,
        () => false,
      );
    }
    const cluster = this.cluster;
    return new Promise<boolean>((resolve) => {
      const attempt = (n: number) => {
        cluster.connect().then(
          () => {
            if (this.closed) {
              cluster.destroy();
              return resolve(false);
            }
            this.onReady();
            resolve(true);
          },
          () => {
            if (this.closed) return resolve(false);
            if (n === 0) resolve(false);
            this.retry = setTimeout(() => attempt(n + 1), Math.min(100 * 2 ** n, 1_000));
            this.retry.unref();
          },
        );
      };
      attempt(0);
    });
  }

  /** A copy of the connection for a subscriber (a cluster copy opens only the pub/sub connection). */
  duplicate(): RedisConnection {
    return this.cluster ? this.cluster.duplicate({ minimizeConnections: true }) : this.client.duplicate();
  }

  get breakerState(): L2BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'isolated';
    }
  }

  async read(key: string): Promise<StoredEntry | undefined> {
    const text = await this.run(() => this.client.get(this.entryKey(key)));
    if (text === FAILED || text === null) return undefined;
    let record: { expires?: number | null; value?: Envelope } | null;
    try {
      record = decodeValue(text) as typeof record;
    } catch {
      // Not a record of ours (another writer under the same namespace): a miss, never an error for the caller.
      this.errors++;
      return undefined;
    }
    const e = record?.value;
    if (e === undefined || e === null || typeof e !== 'object') return undefined;
    const expires = record?.expires ?? Number.POSITIVE_INFINITY;
    // Keyv's rule: a record past its `expires` is a miss (Redis drops it at the same time through PX).
    if (expires < Date.now()) return undefined;
    return { value: e.v, freshUntil: e.f, staleUntil: e.s ?? e.f, expires, tags: e.t, versions: e.n };
  }

  /** Writes an entry; `valueText` is the codec encoding of the value. Resolves false when Redis failed. */
  async write(
    key: string,
    valueText: string,
    freshUntil: number,
    staleUntil: number,
    ttlMs: number,
    tags?: readonly string[],
    versions?: TagVersions,
    { announce, onlyIfAbsent = false }: { announce?: Announcement; onlyIfAbsent?: boolean } = {},
  ): Promise<boolean> {
    let envelope = `{"v":${valueText},"f":${freshUntil}`;
    if (staleUntil > freshUntil) envelope += `,"s":${staleUntil}`;
    if (tags && tags.length > 0) envelope += `,"t":${JSON.stringify(tags)},"n":${JSON.stringify(versions ?? [])}`;
    envelope += '}';
    const ttl = Math.max(1, Math.ceil(ttlMs));
    // The record Keyv writes and reads (its key prefix, its `{expires, value}` shape), written with the client itself
    // for what Keyv's set cannot do: NX, and a PUBLISH in the same transaction.
    const record = `{"expires":${Date.now() + ttl},"value":${envelope}}`;
    const expiration = { type: 'PX', value: ttl } as const;
    const options = onlyIfAbsent ? { expiration, condition: 'NX' as const } : { expiration };
    const done = await this.run<unknown>(() =>
      announce
        ? this.client
            .multi()
            .set(this.entryKey(key), record, options)
            .publish(announce.channel, announce.message)
            .exec()
        : this.client.set(this.entryKey(key), record, options),
    );
    return done !== FAILED;
  }

  async remove(keys: readonly string[], announce?: Announcement): Promise<boolean> {
    // On a cluster, keys of several slots cannot share a MULTI: delete them (each on its master), then announce.
    if (this.cluster && keys.length > 1) {
      const deleted = await this.run(() => Promise.all(keys.map((k) => this.client.unlink(this.entryKey(k)))));
      if (!announce) return deleted !== FAILED;
      return (await this.publish(announce.channel, announce.message)) && deleted !== FAILED;
    }
    const done = await this.run<unknown>(() =>
      announce
        ? this.client
            .multi()
            .unlink(keys.map((k) => this.entryKey(k)))
            .publish(announce.channel, announce.message)
            .exec()
        : this.client.unlink(keys.map((k) => this.entryKey(k))),
    );
    return done !== FAILED;
  }

  /** Current versions of the tags (count 0 for a tag never invalidated), or undefined when Redis failed. */
  async tagVersions(tags: readonly string[]): Promise<TagVersions | undefined> {
    if (tags.length === 0) return [];
    const got = await this.run(() => this.client.mGet([this.epochKey(), ...tags.map((t) => this.tagKey(t))]));
    if (got === FAILED) return undefined;
    const epoch = got[0] ?? (await this.newEpoch());
    if (epoch === undefined) return undefined;
    return got.slice(1).map((count) => `${epoch}:${count ?? 0}`);
  }

  /** First tag use in the namespace, or its counters were lost: start an epoch (the first writer wins). */
  private async newEpoch(): Promise<string | undefined> {
    const candidate = randomUUID().slice(0, 8);
    const set = await this.run(() => this.client.set(this.epochKey(), candidate, { condition: 'NX' }));
    if (set === FAILED) return undefined;
    if (set === 'OK') return candidate;
    const current = await this.run(() => this.client.get(this.epochKey()));
    return current === FAILED || current === null ? undefined : current;
  }

  async bumpTags(tags: readonly string[], announce?: Announcement): Promise<boolean> {
    const done = await this.run(() => {
      const multi = this.client.multi();
      for (const tag of tags) multi.incr(this.tagKey(tag));
      if (announce) multi.publish(announce.channel, announce.message);
      return multi.exec();
    });
    return done !== FAILED;
  }

  /** true: lease taken; false: held by someone else; undefined: Redis failed. */
  async tryLease(key: string, token: string, ttlMs: number): Promise<boolean | undefined> {
    const got = await this.run(() =>
      this.client.set(this.leaseKey(key), token, { condition: 'NX', expiration: { type: 'PX', value: ttlMs } }),
    );
    return got === FAILED ? undefined : got === 'OK';
  }

  async releaseLease(key: string, token: string): Promise<void> {
    await this.run(() => this.client.eval(RELEASE_LEASE, { keys: [this.leaseKey(key)], arguments: [token] }));
  }

  /** PUBLISH on a reachable node: on a cluster, any master relays it to the subscribers of every node. */
  async publish(channel: string, message: string): Promise<boolean> {
    if (!this.cluster) return (await this.run(() => this.client.publish(channel, message))) !== FAILED;
    // Not behind the breaker: failures on one master's slots may open it, and then other instances, still subscribed
    // through a live node, would miss the invalidation.
    try {
      await withinBudget(this.publishOnCluster(channel, message), this.options.timeoutMs);
      return true;
    } catch {
      this.errors++;
      return false;
    }
  }

  /** Round-robin over the masters whose connection is ready, so one dead master does not swallow messages. */
  private publishOnCluster(channel: string, message: string): Promise<number> {
    const masters = (this.cluster as NonNullable<RedisTier['cluster']>).masters;
    for (let i = 0; i < masters.length; i++) {
      const node = masters[(this.nextNode + i) % masters.length];
      if (node.client?.isReady) {
        this.nextNode = (this.nextNode + i + 1) % masters.length;
        return node.client.publish(channel, message);
      }
    }
    return Promise.reject(new Error('no Redis Cluster master is reachable'));
  }

  /** Where KeyvRedis keeps an entry (`<namespace>::<key>`). */
  private entryKey(key: string): string {
    return `${this.namespace}::${key}`;
  }

  /** All tag versions of a namespace share a hash tag, hence a cluster slot: MGET and MULTI need that. */
  private tagKey(tag: string): string {
    return `{${this.namespace}}:tag:${tag}`;
  }

  private epochKey(): string {
    return `{${this.namespace}}:tags-epoch`;
  }

  private leaseKey(key: string): string {
    return `${this.namespace}:lease:${key}`;
  }

  private async run<T>(fn: () => PromiseLike<T>): Promise<T | typeof FAILED> {
    try {
      return await this.breaker.execute(() => withinBudget(fn(), this.options.timeoutMs));
    } catch {
      this.errors++;
      return FAILED;
    }
  }

  private where(): string {
    return this.options.cluster
      ? `cluster ${this.options.cluster.map(redact).join(', ')}`
      : redact(this.options.url ?? '');
  }

  private onConnectionError(error: Error): void {
    if (this.down) return;
    this.down = true;
    this.logger.warn(`Redis connection lost (${error.message}); L2 is bypassed until it comes back.`);
  }

  private onReady(): void {
    if (this.connectedOnce && this.down) this.logger.log(`Redis connection restored (${this.where()}); L2 is back.`);
    this.connectedOnce = true;
    this.down = false;
  }
}

/**
 * Rejects when `work` takes longer than `ms`. Hand-written rather than cockatiel's timeout policy, which cost about
 * 50 µs per Redis round trip here (it builds an AbortController and linked signals per call). A timer per call costs
 * under 1 µs of CPU (`npm run bench -- cache-read-path`); a shared deadline sweep measured no cheaper.
 */
function withinBudget<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis operation exceeded its ${ms} ms budget`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
