import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import { IGNORED_BUS_MESSAGE } from '../multi-level-cache.messages.js';
import type { CallBudget } from './call-budget.js';
import type { Announcement, RedisConnection, RedisTier } from './redis-tier.js';

/** Version of the message format. Messages without `v` are the first format, which this one extends. */
export const BUS_VERSION = 1;

/** What travels on the channel. `o` is the sender; an instance ignores its own messages. @internal */
export interface BusMessage {
  v?: number;
  o: string;
  /** Keys written or deleted: drop them from L1. */
  k?: string[];
  /** Tags invalidated: drop entries carrying them from L1. */
  t?: string[];
  /** A lease holder finished loading this key: wake the instances waiting for it. */
  f?: string;
  /** The namespace was cleared: drop all of L1. */
  c?: 1;
  /** A probe an instance sends to itself to prove its subscription is live. */
  p?: string;
}

export interface BusListener {
  onMessage(message: BusMessage): void;
  /** The subscription may have missed messages (dropped, or no probe came back): L1 can no longer be trusted. */
  onGap(): void;
  /** The subscription is proven live again (own probe received). */
  onLive(): void;
}

const HEARTBEAT_MS = 1_000;
const MISSED_HEARTBEATS = 3;
/** A subscription silent this long is replaced by a fresh connection (see `replaceSubscriber`). */
const RESUBSCRIBE_AFTER_MS = 5_000;

/**
 * L1 invalidation over Redis pub/sub. Pub/sub drops what is published while a subscriber is away, so the bus is
 * "live" only after the instance has received its own probe through the subscription, and it reports a gap as soon as
 * the subscriber connection errors or probes stop coming back. The owner flushes L1 on both transitions.
 *
 * On a Redis Cluster it uses classic SUBSCRIBE/PUBLISH, which every node relays to every other: the subscription
 * lives on one node picked by the cluster client and survives the loss of any other master. (Sharded pub/sub would
 * tie the channel to the master of its slot instead.) Probes and gap detection are the same on both.
 * @internal
 */
export class InvalidationBus {
  readonly origin = randomUUID();
  live = false;
  received = 0;
  published = 0;
  /** Messages ignored: malformed, or of another format version. */
  ignored = 0;
  private subscriber: RedisConnection;
  private subscribed = false;
  private probe = '';
  private lastProbeAt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private liveWaiters: (() => void)[] = [];
  private readonly warned = new Set<string>();
  private readonly logger = new Logger('MultiLevelCache');

  constructor(
    private readonly tier: RedisTier,
    private readonly channel: string,
    private readonly listener: BusListener,
  ) {
    this.subscriber = tier.duplicate();
    this.watchSubscriber();
  }

  /** Connects and waits (up to `timeoutMs`) for the subscription to be proven live. */
  async start(timeoutMs: number): Promise<void> {
    this.lastProbeAt = performance.now();
    this.connectSubscriber();
    this.heartbeat = setInterval(() => this.beat(), HEARTBEAT_MS);
    this.heartbeat.unref();
    if (this.live || timeoutMs <= 0) return;
    let timer: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      this.liveWaiters.push(resolve);
      timer = setTimeout(resolve, timeoutMs);
    });
    clearTimeout(timer);
  }

  async publish(message: Omit<BusMessage, 'o'>, budget?: CallBudget): Promise<void> {
    const { channel, message: text } = this.announcement(message);
    if (await this.tier.publish(channel, text, budget)) this.published++;
  }

  /** A message for the tier to publish together with a write (see `RedisTier.write`). */
  announcement(message: Omit<BusMessage, 'o' | 'v'>): Announcement {
    return { channel: this.channel, message: JSON.stringify({ v: BUS_VERSION, o: this.origin, ...message }) };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.subscriber.isOpen) this.subscriber.destroy();
  }

  private watchSubscriber(): void {
    if (this.tier.cluster) {
      // The cluster copy opens only its pub/sub connection, so any node error is that connection's.
      this.subscriber.on('node-error', () => this.markGap());
      this.subscriber.on('error', () => this.markGap());
    } else {
      this.subscriber.on('error', () => this.markGap());
      this.subscriber.on('end', () => this.markGap());
      this.subscriber.on('ready', () => void this.onReady());
    }
  }

  private connectSubscriber(): void {
    if (this.tier.cluster) this.connectCluster(0);
    else this.subscriber.connect().catch(() => undefined);
  }

  /**
   * A subscription silent for too long is replaced by a fresh connection: on a cluster its node may be gone for good
   * (a replica took over elsewhere, only a fresh discovery finds it); on one Redis the connection may look ready
   * while delivering nothing.
   */
  private replaceSubscriber(): void {
    const old = this.subscriber;
    if (old.isOpen) old.destroy();
    this.subscribed = false;
    this.subscriber = this.tier.duplicate();
    this.watchSubscriber();
    this.connectSubscriber();
  }

  /** A cluster client does not retry when no seed answers, and re-subscribes by itself once connected. */
  private connectCluster(attempt: number): void {
    const subscriber = this.subscriber;
    subscriber.connect().then(
      () => {
        // Closed (or replaced) while connecting: this copy is nobody's any more.
        if (this.closed || subscriber !== this.subscriber) subscriber.destroy();
        else void this.onReady();
      },
      () => {
        if (this.closed || subscriber !== this.subscriber) return;
        setTimeout(() => this.connectCluster(attempt + 1), Math.min(100 * 2 ** attempt, 1_000)).unref();
      },
    );
  }

  private async onReady(): Promise<void> {
    if (!this.subscribed) {
      const subscriber = this.subscriber;
      try {
        await subscriber.subscribe(this.channel, (raw) => this.onRaw(raw));
        if (subscriber === this.subscriber) this.subscribed = true;
      } catch {
        this.markGap();
        return;
      }
    }
    void this.sendProbe();
  }

  private async sendProbe(): Promise<void> {
    this.probe = randomUUID();
    await this.tier.publish(this.channel, JSON.stringify({ o: this.origin, p: this.probe }));
  }

  private beat(): void {
    if (this.closed) return;
    // Monotonic: a wall-clock step must neither fake a silence nor hide one.
    const silent = performance.now() - this.lastProbeAt;
    if (this.live && silent > HEARTBEAT_MS * MISSED_HEARTBEATS) this.markGap();
    if (silent > RESUBSCRIBE_AFTER_MS) {
      this.lastProbeAt = performance.now();
      this.replaceSubscriber();
    }
    if (this.tier.cluster && !this.subscribed && this.subscriber.isOpen) void this.onReady();
    if (
      this.subscribed &&
      (this.tier.cluster ? this.subscriber.isOpen : (this.subscriber as RedisTier['client']).isReady)
    )
      void this.sendProbe();
  }

  /** Runs inside the Redis client's reply decoder: must never throw (a throw there stops all delivery). */
  private onRaw(raw: string): void {
    try {
      const message = this.parse(raw);
      if (message === undefined) return;
      if (message.o === this.origin) {
        if (message.p === undefined) return;
        this.lastProbeAt = performance.now();
        if (!this.live && message.p === this.probe) this.markLive();
        return;
      }
      if (message.p !== undefined) return;
      this.received++;
      this.listener.onMessage(message);
    } catch (error) {
      this.ignore(`handling it failed: ${String(error)}`);
    }
  }

  /** A well-formed message of our format, or undefined (counted and logged once per kind). */
  private parse(raw: string): BusMessage | undefined {
    let message: unknown;
    try {
      message = JSON.parse(raw);
    } catch {
      return this.ignore('not JSON');
    }
    if (message === null || typeof message !== 'object' || Array.isArray(message)) return this.ignore('not an object');
    const { v, o, k, t, f, c, p } = message as Record<string, unknown>;
    if (v !== undefined && v !== BUS_VERSION)
      return this.ignore(`format version ${String(v)}, this one reads ${BUS_VERSION}`);
    if (typeof o !== 'string') return this.ignore('no sender `o`');
    if (k !== undefined && !isStringArray(k)) return this.ignore('`k` is not a list of keys');
    if (t !== undefined && !isStringArray(t)) return this.ignore('`t` is not a list of tags');
    if (f !== undefined && typeof f !== 'string') return this.ignore('`f` is not a key');
    if (c !== undefined && c !== 1) return this.ignore('`c` is not 1');
    if (p !== undefined && typeof p !== 'string') return this.ignore('`p` is not a probe');
    return message as BusMessage;
  }

  private ignore(problem: string): undefined {
    this.ignored++;
    const kind = problem.startsWith('format version') ? 'version' : problem;
    if (!this.warned.has(kind)) {
      this.warned.add(kind);
      this.logger.warn(IGNORED_BUS_MESSAGE(this.channel, problem));
    }
    return undefined;
  }

  private markLive(): void {
    this.live = true;
    this.listener.onLive();
    for (const resolve of this.liveWaiters.splice(0)) resolve();
  }

  private markGap(): void {
    if (!this.live || this.closed) return;
    this.live = false;
    this.logger.warn('Invalidation bus lost its Redis subscription; L1 flushed and kept short-lived until it is back.');
    this.listener.onGap();
  }
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
