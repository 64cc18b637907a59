import type { RedisOptions } from 'ioredis';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { TaskBackoffOptions } from './interfaces/task-backoff-options.interface.js';
import type { BullMqWorkerTuning, TaskQueueModuleOptions } from './interfaces/task-queue-options.interface.js';
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
import { INVALID_OPTION } from './task-queue.messages.js';

/** @internal Module options after validation, with every default applied. */
export interface ResolvedTaskQueueOptions {
  driver: 'memory' | 'bullmq';
  queueName: string;
  connection: (RedisOptions & { url?: string }) | undefined;
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
    fail('connection', undefined, 'a Redis connection for driver "bullmq": { url: "redis://host:6379" } or { host, port }');
  }
  const bullmq = options.bullmq ?? {};
  positiveInteger('bullmq.lockDurationMs', bullmq.lockDurationMs, true);
  positiveInteger('bullmq.stalledIntervalMs', bullmq.stalledIntervalMs, true);
  positiveInteger('bullmq.maxStalledCount', bullmq.maxStalledCount, true);
  return {
    driver,
    queueName,
    // The memory driver ignores `connection`, so `{ url: process.env.REDIS_URL }` can stay in shared config.
    connection: driver === 'bullmq' ? toRedisOptions(options.connection) : undefined,
    prefix: options.prefix,
    concurrency: positiveInteger('concurrency', options.concurrency) ?? DEFAULT_CONCURRENCY,
    attempts: positiveInteger('attempts', options.attempts) ?? DEFAULT_ATTEMPTS,
    backoff: resolveBackoff('backoff', options.backoff) ?? {
      type: 'exponential',
      delayMs: DEFAULT_BACKOFF_DELAY_MS,
      jitter: DEFAULT_BACKOFF_JITTER,
    },
    timeoutMs: positiveInteger('timeoutMs', options.timeoutMs),
    dedupWindowMs: positiveInteger('dedupWindowMs', options.dedupWindowMs) ?? DEFAULT_DEDUP_WINDOW_MS,
    shutdownDeadlineMs: nonNegativeInteger('shutdownDeadlineMs', options.shutdownDeadlineMs) ?? DEFAULT_SHUTDOWN_DEADLINE_MS,
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
export function toRedisOptions(connection: TaskQueueModuleOptions['connection']): RedisOptions & { url?: string } {
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
