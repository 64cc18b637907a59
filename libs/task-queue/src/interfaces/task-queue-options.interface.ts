import type { ClusterOptions, RedisOptions } from 'ioredis';
import type { TaskBackoffOptions } from './task-backoff-options.interface.js';

/**
 * @publicApi A Redis Cluster for the BullMQ driver. A few seed nodes are enough: ioredis discovers the others
 * from them. On a cluster the queue's `prefix` must carry a hash tag (default `{<queueName>}`).
 */
export interface TaskQueueClusterConnection {
  /** Seed nodes: `{ host, port }` or `'redis://host:port'` / `'host:port'` strings. */
  cluster: ReadonlyArray<{ host: string; port: number } | string>;
  /** ioredis `Cluster` options; per-node options such as `password` or `tls` go in `redisOptions`. */
  clusterOptions?: ClusterOptions;
}

/** @publicApi Redis for the BullMQ driver: a URL, ioredis options, or a Redis Cluster. */
export type TaskQueueConnection = { url: string } | RedisOptions | TaskQueueClusterConnection;

/** @publicApi BullMQ tuning (ignored by the memory driver). */
export interface BullMqWorkerTuning {
  /**
   * Longest wait between two tries to reconnect to Redis, for every connection of the queue and its workers
   * (default 500). Tries start 50 ms after a drop and wait 50 ms longer each time, up to this. A worker whose
   * fetch failed on a dropped connection also waits at most this long before it fetches again. A `retryStrategy`
   * in `connection` (or `clusterRetryStrategy` in `clusterOptions`) replaces this.
   */
  reconnectMaxDelayMs?: number;
  /** How long a worker's lock on a running task lasts before it must be renewed (BullMQ default 30 000). */
  lockDurationMs?: number;
  /** How often a worker looks for tasks whose worker died (BullMQ default 30 000). */
  stalledIntervalMs?: number;
  /** How many times a task may be recovered from a dead worker before it fails (BullMQ default 1). */
  maxStalledCount?: number;
}

/** @publicApi How many finished tasks of one kind are kept, and for how long (pruned when a task finishes). */
export interface TaskRetentionLimit {
  /** Most tasks kept; the oldest go first. 0 keeps none. */
  count?: number;
  /** Longest a task is kept after it finished, in milliseconds (BullMQ: rounded up to whole seconds). */
  ageMs?: number;
}

/** @publicApi Retention of finished tasks, the same in both drivers (BullMQ `removeOnComplete` / `removeOnFail`). */
export interface TaskQueueRetention {
  /** Default `{ count: 1000, ageMs: 86_400_000 }` (24 h). */
  completed?: TaskRetentionLimit;
  /** Default `{ count: 10_000, ageMs: 604_800_000 }` (7 days). */
  dead?: TaskRetentionLimit;
}

/** @publicApi Options of `TaskQueueModule.forRoot` / the factory of `forRootAsync`. */
export interface TaskQueueModuleOptions {
  /** `memory` (default): in-process, nothing survives a restart. `bullmq`: Redis through BullMQ. */
  driver?: 'memory' | 'bullmq';
  /**
   * Redis for `driver: 'bullmq'`: `{ url: 'redis://…' }`, ioredis options `{ host, port, … }`, or a Redis Cluster
   * `{ cluster: [{ host, port }, …], clusterOptions? }`.
   */
  connection?: TaskQueueConnection;
  /**
   * BullMQ key prefix (default `bull`; on a cluster `{<queueName>}`). On a cluster it must contain a hash tag
   * (`{…}`) so that all of the queue's keys share one slot.
   */
  prefix?: string;
  /** Most tasks this instance runs at once, all handlers together (default 10). */
  concurrency?: number;
  /** Default runs per task, the first included (default 3). */
  attempts?: number;
  /** Default retry delay (default exponential from 1 000 ms with 0.5 jitter). */
  backoff?: TaskBackoffOptions;
  /** Default per-attempt time limit (default none). */
  timeoutMs?: number;
  /** How long a `dedupKey` keeps deduplicating (default 24 h). */
  dedupWindowMs?: number;
  /** How long shutdown waits for running tasks before aborting them (default 10 000). */
  shutdownDeadlineMs?: number;
  /** Whether this instance runs handlers (default true). `false` gives a web-only instance that only enqueues. */
  workers?: boolean;
  /** Completed tasks kept for `getTask` (default 1 000): the same as `retention.completed.count`, which wins. */
  keepCompleted?: number;
  /** How many completed and dead tasks are kept, and how long (see `TaskQueueRetention` for the defaults). */
  retention?: TaskQueueRetention;
  /** BullMQ: an enqueue that Redis does not answer within this time fails with TaskEnqueueError (default 5 000). */
  enqueueTimeoutMs?: number;
  bullmq?: BullMqWorkerTuning;
  /** Log a warning at boot when `app.enableShutdownHooks()` was not called (default true). */
  warnWithoutShutdownHooks?: boolean;
}

/**
 * @publicApi Options of `TaskQueueModule.registerQueue`: a queue of its own (its own BullMQ queue and Worker, or
 * its own memory queue), on the `forRoot` module's driver and connection. Options left out are the `forRoot` ones.
 */
export interface RegisterTaskQueueOptions
  extends Omit<TaskQueueModuleOptions, 'driver' | 'connection' | 'warnWithoutShutdownHooks'> {
  /** The queue's name: the BullMQ queue name, `@InjectTaskQueue(name)`, `@InjectQueue(name)` and handlers' `queue`. */
  name: string;
}
