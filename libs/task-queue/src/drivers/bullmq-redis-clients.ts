import type { Logger } from '@nestjs/common';
import type { ConnectionOptions } from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import { RECONNECT_DELAY_STEP_MS } from '../task-queue.constants.js';
import type { ResolvedTaskQueueOptions } from '../task-queue.options.js';
import { SOCKET_CLOSE } from './bullmq-connection.js';

/**
 * @internal The BullMQ driver's Redis connections, in one place: their options, the Cluster clients the driver owns
 * and must close, and the throttle on their error logs.
 */
export class BullRedisClients {
  private lastErrorLog = 0;
  private readonly clusters: Cluster[] = [];
  /**
   * Every connection's reconnect delay: 50, 100, … ms up to `bullmq.reconnectMaxDelayMs`. BullMQ's default
   * (1 s at first, growing to 20 s) left the queue failing for seconds after Redis was back.
   */
  private readonly retryStrategy: (times: number) => number;

  constructor(
    private readonly options: ResolvedTaskQueueOptions,
    private readonly logger: Logger,
  ) {
    const maxDelayMs = options.bullmq.reconnectMaxDelayMs;
    this.retryStrategy = (times) => Math.min(times * RECONNECT_DELAY_STEP_MS, maxDelayMs);
  }

  producer(): ConnectionOptions {
    // The producer connection fails fast while Redis is away (no offline queue, one retry, a command timeout),
    // so `enqueue` reports the failure to its caller instead of hanging.
    const failFast = { maxRetriesPerRequest: 1, commandTimeout: this.options.enqueueTimeoutMs, ...SOCKET_CLOSE };
    return this.options.cluster
      ? this.openCluster(false, failFast)
      : ({
          ...SOCKET_CLOSE,
          retryStrategy: this.retryStrategy,
          ...this.options.connection,
          enableOfflineQueue: false,
          ...failFast,
        } as ConnectionOptions);
  }

  worker(): ConnectionOptions {
    // A worker's blocking connection must retry forever (BullMQ requires maxRetriesPerRequest: null).
    return this.options.cluster
      ? this.openCluster(true, { maxRetriesPerRequest: null, ...SOCKET_CLOSE })
      : ({ ...SOCKET_CLOSE, retryStrategy: this.retryStrategy, ...this.options.connection } as ConnectionOptions);
  }

  /** BullMQ closes the connections it duplicated but leaves the clients it was given open. */
  disconnectClusters(): void {
    for (const cluster of this.clusters) cluster.disconnect();
  }

  logError(error: Error): void {
    // Redis outages make ioredis report every reconnect attempt; one line every 5 s is enough.
    const now = Date.now();
    if (now - this.lastErrorLog < 5_000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis error in the task queue: ${error.message}`);
  }

  /** An ioredis Cluster client (the `cluster` connection option), owned and closed by this driver. */
  private openCluster(offlineQueue: boolean, redisOptions: RedisOptions): Cluster {
    const { nodes, options } = this.options.cluster as NonNullable<ResolvedTaskQueueOptions['cluster']>;
    const cluster = new Cluster(nodes, {
      clusterRetryStrategy: this.retryStrategy,
      ...options,
      ...(offlineQueue ? {} : { enableOfflineQueue: false }),
      redisOptions: { ...options.redisOptions, ...redisOptions },
    });
    cluster.on('error', (error: Error) => this.logError(error));
    this.clusters.push(cluster);
    return cluster;
  }
}
