import type { ClusterOptions, RedisOptions } from 'ioredis';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { TaskBackoffOptions } from './interfaces/task-backoff-options.interface.js';
import type {
  BullMqWorkerTuning,
  TaskQueueClusterConnection,
  TaskQueueConnection,
  TaskQueueModuleOptions,
} from './interfaces/task-queue-options.interface.js';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_CONCURRENCY,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_KEEP_COMPLETED,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
} from './task-queue.constants.js';
import { CLUSTER_PREFIX_WITHOUT_HASH_TAG, INVALID_OPTION } from './task-queue.messages.js';

/** @internal A validated Redis Cluster connection. */
export interface ResolvedClusterConnection {
  nodes: ({ host: string; port: number } | string)[];
  options: ClusterOptions;
}

/** @internal Module options after validation, with every default applied. */
export interface ResolvedTaskQueueOptions {
  driver: 'memory' | 'bullmq';
  queueName: string;
  /** A single Redis (bullmq driver); undefined with the memory driver or a cluster. */
  connection: (RedisOptions & { url?: string }) | undefined;
  /** A Redis Cluster (bullmq driver). */
  cluster: ResolvedClusterConnection | undefined;
  /** On a cluster always set, and always with a hash tag. */
  prefix: string | undefined;
  concurrency: number;
  attempts: number;
  backoff: Required<TaskBackoffOptions>;
  timeoutMs: number | undefined;
  dedupWindowMs: number;
  shutdownDeadlineMs: number;
  workers: boolean;
  keepCompleted: number;
  enqueueTimeoutMs: number;
  bullmq: BullMqWorkerTuning;
  warnWithoutShutdownHooks: boolean;
}

/** @internal Validates the module options (naming the offending one) and applies the defaults. */
export function resolveTaskQueueOptions(options: TaskQueueModuleOptions, queueName: string): ResolvedTaskQueueOptions {
  const driver = options.driver ?? 'memory';
  if (driver !== 'memory' && driver !== 'bullmq') fail('driver', driver, '"memory" or "bullmq"');
  if (typeof queueName !== 'string' || queueName.length === 0 || queueName.includes(':')) {
    fail('queueName', queueName, 'a non-empty string without ":"');
  }
  if (driver === 'bullmq' && options.connection === undefined) {
    fail(
      'connection',
      undefined,
      'a Redis connection for driver "bullmq": { url: "redis://host:6379" }, { host, port } or { cluster: [{ host, port }, …] }',
    );
  }
  const bullmq = options.bullmq ?? {};
  // The memory driver ignores `connection`, so `{ url: process.env.REDIS_URL }` can stay in shared config.
  const connection = driver === 'bullmq' ? options.connection : undefined;
  const cluster =
    connection !== undefined && isClusterConnection(connection) ? toClusterConnection(connection) : undefined;
  positiveInteger('bullmq.lockDurationMs', bullmq.lockDurationMs, true);
  positiveInteger('bullmq.stalledIntervalMs', bullmq.stalledIntervalMs, true);
  positiveInteger('bullmq.maxStalledCount', bullmq.maxStalledCount, true);
  return {
    driver,
    queueName,
    connection: connection === undefined || isClusterConnection(connection) ? undefined : toRedisOptions(connection),
    cluster,
    prefix: cluster !== undefined ? clusterPrefix(options.prefix, queueName) : options.prefix,
    concurrency: positiveInteger('concurrency', options.concurrency) ?? DEFAULT_CONCURRENCY,
    attempts: positiveInteger('attempts', options.attempts) ?? DEFAULT_ATTEMPTS,
    backoff: resolveBackoff('backoff', options.backoff) ?? {
      type: 'exponential',
      delayMs: DEFAULT_BACKOFF_DELAY_MS,
      jitter: DEFAULT_BACKOFF_JITTER,
    },
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs),
    dedupWindowMs: positiveInteger('dedupWindowMs', options.dedupWindowMs) ?? DEFAULT_DEDUP_WINDOW_MS,
    shutdownDeadlineMs:
      nonNegativeInteger('shutdownDeadlineMs', options.shutdownDeadlineMs) ?? DEFAULT_SHUTDOWN_DEADLINE_MS,
    workers: bool('workers', options.workers) ?? true,
    keepCompleted: nonNegativeInteger('keepCompleted', options.keepCompleted) ?? DEFAULT_KEEP_COMPLETED,
    enqueueTimeoutMs: positiveInteger('enqueueTimeoutMs', options.enqueueTimeoutMs) ?? DEFAULT_ENQUEUE_TIMEOUT_MS,
    bullmq,
    warnWithoutShutdownHooks: bool('warnWithoutShutdownHooks', options.warnWithoutShutdownHooks) ?? true,
  };
}

/** @internal Validates a backoff option; `undefined` stays `undefined`. */
export function resolveBackoff(
  option: string,
  backoff: TaskBackoffOptions | undefined,
  onError: (message: string) => Error = (m) => new InvalidTaskQueueOptionsError(m),
): Required<TaskBackoffOptions> | undefined {
  if (backoff === undefined) return undefined;
  if (backoff === null || typeof backoff !== 'object') {
    throw onError(INVALID_OPTION(option, backoff, '{ type: "exponential" | "fixed", delayMs, jitter? }'));
  }
  if (backoff.type !== 'exponential' && backoff.type !== 'fixed') {
    throw onError(INVALID_OPTION(`${option}.type`, backoff.type, '"exponential" or "fixed"'));
  }
  if (!Number.isInteger(backoff.delayMs) || backoff.delayMs < 0) {
    throw onError(INVALID_OPTION(`${option}.delayMs`, backoff.delayMs, 'an integer ≥ 0 (milliseconds)'));
  }
  const jitter = backoff.jitter ?? DEFAULT_BACKOFF_JITTER;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw onError(INVALID_OPTION(`${option}.jitter`, backoff.jitter, 'a number from 0 to 1'));
  }
  return { type: backoff.type, delayMs: backoff.delayMs, jitter };
}

/**
 * @internal Checks the connection option. BullMQ itself accepts `{ url, ...ioredisOptions }` and opens the
 * connections it needs (a worker needs a second, blocking one), so the option is passed on as it is.
 */
export function toRedisOptions(
  connection: Exclude<TaskQueueConnection, TaskQueueClusterConnection> | undefined,
): RedisOptions & { url?: string } {
  if (connection === null || typeof connection !== 'object') {
    fail('connection', connection, '{ url: "redis://host:6379" } or ioredis options { host, port, … }');
  }
  if ('url' in connection) {
    let protocol: string | undefined;
    try {
      protocol = new URL(connection.url).protocol;
    } catch {
      protocol = undefined;
    }
    if (protocol !== 'redis:' && protocol !== 'rediss:') {
      fail('connection.url', connection.url, 'a redis:// or rediss:// URL such as redis://user:password@host:6379/0');
    }
  }
  return { ...connection };
}

function isClusterConnection(connection: TaskQueueConnection): connection is TaskQueueClusterConnection {
  return connection !== null && typeof connection === 'object' && 'cluster' in connection;
}

/** @internal Checks the seed nodes of a Redis Cluster connection. */
export function toClusterConnection(connection: TaskQueueClusterConnection): ResolvedClusterConnection {
  const expected = 'a non-empty array of seed nodes: { host, port } or "redis://host:port"';
  if (!Array.isArray(connection.cluster) || connection.cluster.length === 0)
    fail('connection.cluster', connection.cluster, expected);
  connection.cluster.forEach((node, i) => {
    const option = `connection.cluster[${i}]`;
    if (typeof node === 'string') {
      if (!isHostPort(node)) fail(option, node, '"redis://host:port" or "host:port"');
    } else if (
      node === null ||
      typeof node !== 'object' ||
      typeof node.host !== 'string' ||
      node.host === '' ||
      !isPort(node.port)
    ) {
      fail(option, node, '{ host: string, port: 1–65535 }');
    }
  });
  if (
    connection.clusterOptions !== undefined &&
    (connection.clusterOptions === null || typeof connection.clusterOptions !== 'object')
  ) {
    fail('connection.clusterOptions', connection.clusterOptions, 'ioredis ClusterOptions (an object)');
  }
  return {
    nodes: connection.cluster.map((node) => (typeof node === 'string' ? node : { ...node })),
    options: { ...connection.clusterOptions },
  };
}

/**
 * @internal BullMQ's scripts touch several keys of a queue at once, which a cluster only allows within one slot:
 * the prefix must carry a hash tag. The default, `{<queueName>}`, gives each queue its own tag, so several queues
 * spread over the cluster's slots.
 */
export function clusterPrefix(prefix: string | undefined, queueName: string): string {
  if (prefix === undefined) return `{${queueName}}`;
  if (typeof prefix !== 'string' || hashTag(prefix) === undefined) {
    throw new InvalidTaskQueueOptionsError(CLUSTER_PREFIX_WITHOUT_HASH_TAG(prefix, queueName));
  }
  return prefix;
}

/** Redis Cluster's rule: the text between the first `{` and the first `}` after it, when not empty. */
export function hashTag(key: string): string | undefined {
  const open = key.indexOf('{');
  if (open === -1) return undefined;
  const close = key.indexOf('}', open + 1);
  return close > open + 1 ? key.slice(open + 1, close) : undefined;
}

function isHostPort(node: string): boolean {
  try {
    const url = new URL(node.includes('://') ? node : `redis://${node}`);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '' && isPort(Number(url.port));
  } catch {
    return false;
  }
}

function isPort(port: unknown): boolean {
  return Number.isInteger(port) && (port as number) >= 1 && (port as number) <= 65_535;
}

function positiveInteger(option: string, value: number | undefined, allowUndefined = true): number | undefined {
  if (value === undefined && allowUndefined) return undefined;
  if (!Number.isInteger(value) || (value as number) < 1) fail(option, value, 'an integer ≥ 1');
  return value;
}

function nonNegativeInteger(option: string, value: number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (!Number.isInteger(value) || value < 0) fail(option, value, 'an integer ≥ 0');
  return value;
}

function bool(option: string, value: boolean | undefined): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(option, value, 'true or false');
  return value;
}

function fail(option: string, value: unknown, expected: string): never {
  throw new InvalidTaskQueueOptionsError(INVALID_OPTION(option, value, expected));
}
