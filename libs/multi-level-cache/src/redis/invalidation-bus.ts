import { randomUUID } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { Announcement, RedisConnection, RedisTier } from './redis-tier.js';

/** What travels on the channel. `o` is the sender; an instance ignores its own messages. @internal */
export interface BusMessage {
  o: string;
  /** Keys written or deleted: drop them from L1. */
  k?: string[];
  /** Tags invalidated: drop entries carrying them from L1. */
  t?: string[];
  /** A lease holder finished loading this key: wake the instances waiting for it. */
  f?: string;
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
/** On a cluster, a subscription silent this long is moved: its node may have been replaced at another address. */
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
  private subscriber: RedisConnection;
  private subscribed = false;
  private probe = '';
  private lastProbeAt = 0;
  private heartbeat: NodeJS.Timeout | undefined;
  private closed = false;
  private liveWaiters: (() => void)[] = [];
  private readonly logger = new Logger('MultiLevelCache');

  constructor(
    private readonly tier: RedisTier,
    private readonly channel: string,
    private readonly listener: BusListener,
  ) {
    this.subscriber = tier.duplicate();
    if (tier.cluster) {
      this.watchClusterSubscriber();
    } else {
      this.subscriber.on('error', () => this.markGap());
      this.subscriber.on('end', () => this.markGap());
      this.subscriber.on('ready', () => void this.onReady());
    }
  }

  /** Connects and waits (up to `timeoutMs`) for the subscription to be proven live. */
  async start(timeoutMs: number): Promise<void> {
    this.lastProbeAt = Date.now();
    if (this.tier.cluster) this.connectCluster(0);
    else this.subscriber.connect().catch(() => undefined);
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

  async publish(message: Omit<BusMessage, 'o'>): Promise<void> {
    const { channel, message: text } = this.announcement(message);
    if (await this.tier.publish(channel, text)) this.published++;
  }

  /** A message for the tier to publish together with a write (see `RedisTier.write`). */
  announcement(message: Omit<BusMessage, 'o'>): Announcement {
    return { channel: this.channel, message: JSON.stringify({ o: this.origin, ...message }) };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.heartbeat);
    if (this.subscriber.isOpen) this.subscriber.destroy();
  }

  /** The cluster copy opens only its pub/sub connection, so any node error is that connection's. */
  private watchClusterSubscriber(): void {
    this.subscriber.on('node-error', () => this.markGap());
    this.subscriber.on('error', () => this.markGap());
  }

  /**
   * The cluster client keeps reconnecting its pub/sub connection to the same address. If that node is gone for good
   * (a replica took over elsewhere), only a fresh discovery from the seeds finds a live node to subscribe on.
   */
  private replaceClusterSubscriber(): void {
    const old = this.subscriber;
    if (old.isOpen) old.destroy();
    this.subscribed = false;
    this.subscriber = this.tier.duplicate();
    this.watchClusterSubscriber();
    this.connectCluster(0);
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
      try {
        await this.subscriber.subscribe(this.channel, (raw) => this.onRaw(raw));
        this.subscribed = true;
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
    if (this.live && Date.now() - this.lastProbeAt > HEARTBEAT_MS * MISSED_HEARTBEATS) this.markGap();
    if (this.tier.cluster && Date.now() - this.lastProbeAt > RESUBSCRIBE_AFTER_MS) {
      this.lastProbeAt = Date.now();
      this.replaceClusterSubscriber();
    }
    if (this.tier.cluster && !this.subscribed && this.subscriber.isOpen) void this.onReady();
    if (
      this.subscribed &&
      (this.tier.cluster ? this.subscriber.isOpen : (this.subscriber as RedisTier['client']).isReady)
    )
      void this.sendProbe();
  }

  private onRaw(raw: string): void {
    let message: BusMessage;
    try {
      message = JSON.parse(raw) as BusMessage;
    } catch {
      return;
    }
    if (message.o === this.origin) {
      if (message.p === undefined) return;
      this.lastProbeAt = Date.now();
      if (!this.live && message.p === this.probe) this.markLive();
      return;
    }
    if (message.p !== undefined) return;
    this.received++;
    this.listener.onMessage(message);
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
