import type { ClusterOptions, RedisOptions } from 'ioredis';
import { InvalidTaskQueueOptionsError } from '../errors/invalid-task-queue-options.error.js';
import type { TaskQueueClusterConnection, TaskQueueConnection } from '../interfaces/task-queue-options.interface.js';
import { CLUSTER_PREFIX_WITHOUT_HASH_TAG } from '../task-queue.messages.js';
import { fail } from './option-rules.js';

/** @internal A validated Redis Cluster connection. */
export interface ResolvedClusterConnection {
  nodes: ({ host: string; port: number } | string)[];
  options: ClusterOptions;
}

/** What `BullModule.forRoot(config)` of @nestjs/bullmq registers (only the parts read here). */
export interface SharedBullConfig {
  connection?: unknown;
  prefix?: string;
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

export function isClusterConnection(connection: TaskQueueConnection): connection is TaskQueueClusterConnection {
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
