import { Logger } from '@nestjs/common';
import { createClient, createCluster } from '@keyv/redis';
import type { L2BreakerState } from '../interfaces/cache-stats.interface.js';
import type { ResolvedOptions } from '../multi-level-cache.options.js';
import type { CallBudget } from './call-budget.js';
import { FAILED, GuardedSteps } from './guarded-steps.js';

/** A single-node client; a cluster client is driven through the same command methods. @internal */
export type RedisCommands = ReturnType<typeof createClient>;
/** @internal */
export type RedisConnection = RedisCommands | ReturnType<typeof createCluster>;

export { FAILED } from './guarded-steps.js';

/**
 * The connection to one Redis or a Redis Cluster, through the @keyv/redis client: connecting and reconnecting, and
 * every command run under the call's time budget behind a cockatiel circuit breaker. The client never queues
 * commands while offline. @internal
 */
export class RedisLink {
  /** The connection (a cluster client when `cluster`), typed by its command methods, which both kinds share. */
  readonly client: RedisCommands;
  readonly cluster: ReturnType<typeof createCluster> | undefined;
  /** The breaker, budgets and error count of every command. */
  readonly steps: GuardedSteps;
  private readonly logger = new Logger('MultiLevelCache');
  private connectedOnce = false;
  private down = false;
  private closed = false;
  private retry: NodeJS.Timeout | undefined;
  private nextNode = 0;

  constructor(private readonly options: NonNullable<ResolvedOptions['l2']>) {
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
    this.steps = new GuardedSteps(options);
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
    return this.steps.breakerState;
  }

  get errors(): number {
    return this.steps.errors;
  }

  /** PUBLISH on a reachable node: on a cluster, any master relays it to the subscribers of every node. */
  async publish(channel: string, message: string, budget?: CallBudget): Promise<boolean> {
    if (!this.cluster) return (await this.run(() => this.client.publish(channel, message), budget)) !== FAILED;
    // Not behind the breaker: failures on one master's slots may open it, and then other instances, still subscribed
    // through a live node, would miss the invalidation.
    return (await this.steps.unguarded(() => this.publishOnCluster(channel, message), budget)) !== FAILED;
  }

  /** Round-robin over the masters whose connection is ready, so one dead master does not swallow messages. */
  private publishOnCluster(channel: string, message: string): Promise<number> {
    const masters = (this.cluster as NonNullable<RedisLink['cluster']>).masters;
    for (let i = 0; i < masters.length; i++) {
      const node = masters[(this.nextNode + i) % masters.length];
      if (node.client?.isReady) {
        this.nextNode = (this.nextNode + i + 1) % masters.length;
        return node.client.publish(channel, message);
      }
    }
    return Promise.reject(new Error('no Redis Cluster master is reachable'));
  }

  /** One Redis step (see `GuardedSteps.run`). */
  run<T>(fn: () => PromiseLike<T>, budget?: CallBudget): Promise<T | typeof FAILED> {
    return this.steps.run(fn, budget);
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

function redact(url: string): string {
  return url.replace(/\/\/[^@/]*@/, '//***@');
}
