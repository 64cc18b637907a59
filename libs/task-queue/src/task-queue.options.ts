import type { RedisOptions } from 'ioredis';
import { InvalidEnqueueOptionsError } from './errors/invalid-enqueue-options.error.js';
import { InvalidTaskQueueArgumentError } from './errors/invalid-task-queue-argument.error.js';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { EnqueueManyItem, EnqueueOptions } from './interfaces/enqueue-options.interface.js';
import type { TaskBackoffOptions } from './interfaces/task-backoff-options.interface.js';
import type { TaskHandlerOptions } from './interfaces/task-handler-options.interface.js';
import type {
  BullMqWorkerTuning,
  TaskQueueConnection,
  RegisterTaskQueueOptions,
  TaskQueueModuleOptions,
  TaskQueueRetention,
  TaskRetentionLimit,
} from './interfaces/task-queue-options.interface.js';
import {
  DEFAULT_ATTEMPTS,
  DEFAULT_BACKOFF_DELAY_MS,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_COMPLETED_MAX_AGE_MS,
  DEFAULT_CONCURRENCY,
  DEFAULT_DEAD_MAX_AGE_MS,
  DEFAULT_DEAD_MAX_COUNT,
  DEFAULT_DEDUP_WINDOW_MS,
  DEFAULT_ENQUEUE_TIMEOUT_MS,
  DEFAULT_KEEP_COMPLETED,
  DEFAULT_RECONNECT_MAX_DELAY_MS,
  DEFAULT_SHUTDOWN_DEADLINE_MS,
  MAX_DELAY_MS,
  MAX_PRIORITY,
  MAX_TIMER_MS,
} from './task-queue.constants.js';
import { INVALID_OPTION } from './task-queue.messages.js';
import {
  clusterPrefix,
  isClusterConnection,
  type ResolvedClusterConnection,
  type SharedBullConfig,
  toClusterConnection,
  toRedisOptions,
} from './options/connection-options.js';
import {
  bool,
  bootError,
  CONFIG_FIX,
  count,
  DELAY_FIX,
  fail,
  integer,
  keysOf,
  knownKeys,
  msOption,
  onlyKeys,
  queueNameOption,
  TIMER_FIX,
  timerOption,
} from './options/option-rules.js';

export {
  clusterPrefix,
  hashTag,
  type ResolvedClusterConnection,
  type SharedBullConfig,
  toClusterConnection,
  toRedisOptions,
} from './options/connection-options.js';
export { queueNameOption } from './options/option-rules.js';
export {
  nextCronTime,
  type ResolvedSchedule,
  resolveSchedule,
  type ScheduleMetadata,
} from './options/schedule-options.js';
import { HANDLER_OPTION_KEYS } from './options/handler-option-keys.js';

/** @internal Retention after validation: both limits always set. */
export interface ResolvedRetention {
  completed: Required<TaskRetentionLimit>;
  dead: Required<TaskRetentionLimit>;
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
  retention: ResolvedRetention;
  enqueueTimeoutMs: number;
  bullmq: BullMqWorkerTuning & { reconnectMaxDelayMs: number };
  warnWithoutShutdownHooks: boolean;
}

/** Every key of `TaskQueueModuleOptions`. */
const MODULE_OPTION_KEYS: readonly (keyof TaskQueueModuleOptions)[] = [
  'driver',
  'connection',
  'prefix',
  'concurrency',
  'attempts',
  'backoff',
  'timeoutMs',
  'dedupWindowMs',
  'shutdownDeadlineMs',
  'workers',
  'keepCompleted',
  'retention',
  'enqueueTimeoutMs',
  'bullmq',
  'warnWithoutShutdownHooks',
];

/*
 * The keys of each nested plain options object (and of each call's options), for `onlyKeys`. Not checked, on
 * purpose: `connection` (ioredis's own options, handed to BullMQ/ioredis as they are), its `cluster` seed nodes and
 * `clusterOptions` (ioredis's too), a BullModule.forRoot connection or client, and task payloads.
 */
const BULLMQ_TUNING_KEYS = keysOf<BullMqWorkerTuning>({
  reconnectMaxDelayMs: true,
  lockDurationMs: true,
  stalledIntervalMs: true,
  maxStalledCount: true,
});
const RETENTION_KEYS = keysOf<TaskQueueRetention>({ completed: true, dead: true });
const RETENTION_LIMIT_KEYS = keysOf<TaskRetentionLimit>({ count: true, ageMs: true });
const BACKOFF_KEYS = keysOf<TaskBackoffOptions>({ type: true, delayMs: true, jitter: true });
const BATCH_KEYS = keysOf<NonNullable<TaskHandlerOptions['batch']>>({ maxSize: true, maxWaitMs: true });
const RATE_LIMIT_KEYS = keysOf<NonNullable<TaskHandlerOptions['rateLimit']>>({ max: true, perMs: true });
const ENQUEUE_OPTION_KEYS = keysOf<EnqueueOptions>({
  delayMs: true,
  priority: true,
  attempts: true,
  backoff: true,
  dedupKey: true,
  group: true,
});
/** @internal */
export const ENQUEUE_MANY_ITEM_KEYS = keysOf<EnqueueManyItem>({ name: true, payload: true, options: true });
/** @internal */
export const LIST_DEAD_OPTION_KEYS = keysOf<{ offset?: number; limit?: number }>({ offset: true, limit: true });
/** @internal */
export const WAIT_UNTIL_IDLE_OPTION_KEYS = keysOf<{ timeoutMs?: number }>({ timeoutMs: true });

// Module-level, so that a call passes them without allocating: the path is built only when a key is unknown.
const enqueueOptionsPath = (taskName: string) => `enqueue("${taskName}") options`;

/** @internal Validates the module options (naming the offending one) and applies the defaults. */
export function resolveTaskQueueOptions(options: TaskQueueModuleOptions, queueName: string): ResolvedTaskQueueOptions {
  // A forRootAsync factory that forgot to return its object lands here as undefined.
  if (options === null || typeof options !== 'object') {
    fail('TaskQueueModule options', options, 'an object', 'Return the options object from your forRootAsync factory.');
  }
  knownKeys('TaskQueueModule', options, MODULE_OPTION_KEYS);
  const driver = options.driver ?? 'memory';
  if (driver !== 'memory' && driver !== 'bullmq') fail('driver', driver, '"memory" or "bullmq"');
  queueNameOption('queueName', queueName);
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
  if (options.bullmq !== undefined && (options.bullmq === null || typeof options.bullmq !== 'object')) {
    fail(
      'bullmq',
      options.bullmq,
      'an object { lockDurationMs?, stalledIntervalMs?, maxStalledCount?, reconnectMaxDelayMs? }',
    );
  }
  // Our own tuning, mapped key by key onto BullMQ's Worker options (not handed to BullMQ as it is): checked.
  onlyKeys('bullmq', bullmq, BULLMQ_TUNING_KEYS);
  timerOption('bullmq.lockDurationMs', bullmq.lockDurationMs, 1);
  timerOption('bullmq.stalledIntervalMs', bullmq.stalledIntervalMs, 1);
  count('bullmq.maxStalledCount', bullmq.maxStalledCount, 1);
  const reconnectMaxDelayMs =
    timerOption('bullmq.reconnectMaxDelayMs', bullmq.reconnectMaxDelayMs, 1) ?? DEFAULT_RECONNECT_MAX_DELAY_MS;
  const keepCompleted = count('keepCompleted', options.keepCompleted) ?? DEFAULT_KEEP_COMPLETED;
  return {
    driver,
    queueName,
    connection: connection === undefined || isClusterConnection(connection) ? undefined : toRedisOptions(connection),
    cluster,
    prefix: cluster !== undefined ? clusterPrefix(options.prefix, queueName) : options.prefix,
    concurrency: count('concurrency', options.concurrency, 1) ?? DEFAULT_CONCURRENCY,
    attempts: count('attempts', options.attempts, 1) ?? DEFAULT_ATTEMPTS,
    backoff: resolveBackoff('backoff', options.backoff) ?? {
      type: 'exponential',
      delayMs: DEFAULT_BACKOFF_DELAY_MS,
      jitter: DEFAULT_BACKOFF_JITTER,
    },
    timeoutMs: timerOption('timeoutMs', options.timeoutMs, 1),
    // No timer waits for the window (expiry is compared, and BullMQ keeps it in Redis), so it may be long.
    dedupWindowMs: msOption('dedupWindowMs', options.dedupWindowMs, 1, MAX_DELAY_MS) ?? DEFAULT_DEDUP_WINDOW_MS,
    shutdownDeadlineMs:
      timerOption('shutdownDeadlineMs', options.shutdownDeadlineMs, 0) ?? DEFAULT_SHUTDOWN_DEADLINE_MS,
    workers: bool('workers', options.workers) ?? true,
    retention: resolveRetention(options.retention, keepCompleted),
    enqueueTimeoutMs: timerOption('enqueueTimeoutMs', options.enqueueTimeoutMs, 1) ?? DEFAULT_ENQUEUE_TIMEOUT_MS,
    bullmq: { ...bullmq, reconnectMaxDelayMs },
    warnWithoutShutdownHooks: bool('warnWithoutShutdownHooks', options.warnWithoutShutdownHooks) ?? true,
  };
}

/**
 * @internal The options with a `BullModule.forRoot` connection (and prefix) filled in when the module has none of
 * its own, so an app moving from @nestjs/bullmq keeps one Redis configuration. A client instance there gives its
 * options (the queue opens its own connections from them, as a worker needs a blocking one).
 */
export function withSharedBullConfig(
  options: TaskQueueModuleOptions,
  shared: SharedBullConfig | undefined,
): TaskQueueModuleOptions {
  if (options === null || typeof options !== 'object') return options;
  if (options.driver !== 'bullmq' || options.connection !== undefined || shared?.connection === undefined) {
    return options;
  }
  const given = shared.connection as { isCluster?: boolean; options?: RedisOptions; duplicate?: unknown };
  if (given.isCluster === true) {
    fail(
      'connection',
      undefined,
      'given for a Redis Cluster (the BullModule.forRoot connection is a Cluster client)',
      'Pass { cluster: [{ host, port }, …] } to TaskQueueModule.forRoot.',
    );
  }
  const connection = typeof given.duplicate === 'function' ? { ...given.options } : given;
  return {
    ...options,
    connection: connection as TaskQueueConnection,
    ...(options.prefix === undefined && shared.prefix !== undefined ? { prefix: shared.prefix } : {}),
  };
}

/**
 * @internal The options of one `registerQueue`: the `forRoot` options with the queue's own on top, through the same
 * validation as `forRoot`.
 */
export function resolveRegisteredQueueOptions(
  root: TaskQueueModuleOptions,
  queue: RegisterTaskQueueOptions,
  shared: SharedBullConfig | undefined,
): ResolvedTaskQueueOptions {
  if (queue === null || typeof queue !== 'object') {
    fail('TaskQueueModule.registerQueue options', queue, 'an object { name, … }', 'Name the queue.');
  }
  const { name, ...own } = queue;
  queueNameOption('registerQueue({ name })', name);
  const forbidden = ['driver', 'connection'].find((key) => key in own);
  if (forbidden !== undefined) {
    fail(
      `registerQueue("${name}").${forbidden}`,
      (own as Record<string, unknown>)[forbidden],
      'left out (every queue uses the forRoot driver and connection)',
      'Set it in TaskQueueModule.forRoot.',
    );
  }
  return resolveTaskQueueOptions(
    withSharedBullConfig({ ...root, ...own, warnWithoutShutdownHooks: false }, shared),
    name,
  );
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
  onlyKeys(option, backoff, BACKOFF_KEYS, onError);
  if (backoff.type !== 'exponential' && backoff.type !== 'fixed') {
    throw onError(INVALID_OPTION(`${option}.type`, backoff.type, '"exponential" or "fixed"'));
  }
  const delayMs = integer(`${option}.delayMs`, backoff.delayMs, 0, MAX_TIMER_MS, onError, TIMER_FIX, true) as number;
  const jitter = backoff.jitter ?? DEFAULT_BACKOFF_JITTER;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) {
    throw onError(INVALID_OPTION(`${option}.jitter`, backoff.jitter, 'a finite number from 0 to 1'));
  }
  return { type: backoff.type, delayMs, jitter };
}

function resolveRetention(retention: TaskQueueModuleOptions['retention'], keepCompleted: number): ResolvedRetention {
  if (retention !== undefined && (retention === null || typeof retention !== 'object')) {
    fail('retention', retention, 'an object { completed?: { count?, ageMs? }, dead?: { count?, ageMs? } }');
  }
  if (retention !== undefined) onlyKeys('retention', retention, RETENTION_KEYS);
  const limit = (kind: 'completed' | 'dead', defaults: Required<TaskRetentionLimit>) => {
    const given = retention?.[kind];
    if (given === undefined) return defaults;
    if (given === null || typeof given !== 'object') fail(`retention.${kind}`, given, 'an object { count?, ageMs? }');
    onlyKeys(`retention.${kind}`, given, RETENTION_LIMIT_KEYS);
    return {
      count: count(`retention.${kind}.count`, given.count) ?? defaults.count,
      ageMs: msOption(`retention.${kind}.ageMs`, given.ageMs, 1, MAX_DELAY_MS) ?? defaults.ageMs,
    };
  };
  return {
    completed: limit('completed', { count: keepCompleted, ageMs: DEFAULT_COMPLETED_MAX_AGE_MS }),
    dead: limit('dead', { count: DEFAULT_DEAD_MAX_COUNT, ageMs: DEFAULT_DEAD_MAX_AGE_MS }),
  };
}

/** @internal The options of one `enqueue`, checked through the same bounds as the module's. */
export function resolveEnqueueOptions(taskName: string, options: EnqueueOptions) {
  const at = (key: string) => `enqueue("${taskName}").${key}`;
  const onError = enqueueError;
  if (options === null || typeof options !== 'object') {
    throw onError(INVALID_OPTION(`enqueue("${taskName}") options`, options, 'an object or undefined'));
  }
  onlyKeys(enqueueOptionsPath, options, ENQUEUE_OPTION_KEYS, onError, taskName);
  const delayMs =
    integer(at('delayMs'), options.delayMs, 0, MAX_DELAY_MS, onError, DELAY_FIX, options.delayMs !== undefined) ?? 0;
  const priority =
    integer(
      at('priority'),
      options.priority,
      0,
      MAX_PRIORITY,
      onError,
      'Use 1 (first) to 2097151 (last), or 0 for no priority.',
      options.priority !== undefined,
    ) ?? 0;
  const attempts = integer(
    at('attempts'),
    options.attempts,
    1,
    Number.MAX_SAFE_INTEGER,
    onError,
    CONFIG_FIX,
    options.attempts !== undefined,
  );
  const { dedupKey } = options;
  if (dedupKey !== undefined && (typeof dedupKey !== 'string' || dedupKey.length === 0)) {
    throw onError(INVALID_OPTION(at('dedupKey'), dedupKey, 'a non-empty string', 'Pass any string, or leave it out.'));
  }
  const { group } = options;
  if (group !== undefined && (typeof group !== 'string' || group.length === 0)) {
    throw onError(
      INVALID_OPTION(at('group'), group, 'a non-empty string', 'Pass the tenant (or other) key as a string.'),
    );
  }
  if (group !== undefined && priority !== 0) {
    throw onError(
      INVALID_OPTION(
        at('priority'),
        priority,
        'left out with group',
        'A group orders its tasks by fair sharing; drop one.',
      ),
    );
  }
  return {
    delayMs,
    priority,
    attempts,
    backoff: resolveBackoff(at('backoff'), options.backoff, onError),
    dedupKey,
    group,
  };
}

/** @internal The options of one `@TaskHandler`, through the same bounds. */
export function resolveHandlerOptions(where: string, options: TaskHandlerOptions) {
  const at = (key: string) => `${where}: ${key}`;
  if (options === null || typeof options !== 'object') fail(at('options'), options, 'an object or undefined');
  onlyKeys(at('options'), options, HANDLER_OPTION_KEYS);
  if (options.queue !== undefined) queueNameOption(at('queue'), options.queue);
  return {
    queue: options.queue,
    concurrency: count(at('concurrency'), options.concurrency, 1),
    attempts: count(at('attempts'), options.attempts, 1),
    backoff: resolveBackoff(at('backoff'), options.backoff),
    timeoutMs: timerOption(at('timeoutMs'), options.timeoutMs, 1),
    batch: resolveBatch(at('batch'), options.batch),
    rateLimit: resolveRateLimit(at('rateLimit'), options.rateLimit),
  };
}

function resolveRateLimit(
  option: string,
  limit: TaskHandlerOptions['rateLimit'],
): { max: number; perMs: number } | undefined {
  if (limit === undefined) return undefined;
  if (limit === null || typeof limit !== 'object') fail(option, limit, 'an object { max, perMs }');
  onlyKeys(option, limit, RATE_LIMIT_KEYS);
  const max = integer(`${option}.max`, limit.max, 1, Number.MAX_SAFE_INTEGER, bootError, CONFIG_FIX, true);
  const perMs = integer(`${option}.perMs`, limit.perMs, 1, MAX_TIMER_MS, bootError, TIMER_FIX, true);
  return { max: max as number, perMs: perMs as number };
}

function resolveBatch(
  option: string,
  batch: TaskHandlerOptions['batch'],
): { maxSize: number; maxWaitMs: number } | undefined {
  if (batch === undefined) return undefined;
  if (batch === null || typeof batch !== 'object') fail(option, batch, 'an object { maxSize, maxWaitMs }');
  onlyKeys(option, batch, BATCH_KEYS);
  const maxSize = integer(`${option}.maxSize`, batch.maxSize, 1, Number.MAX_SAFE_INTEGER, bootError, CONFIG_FIX, true);
  const maxWaitMs = integer(`${option}.maxWaitMs`, batch.maxWaitMs, 0, MAX_TIMER_MS, bootError, TIMER_FIX, true);
  return { maxSize: maxSize as number, maxWaitMs: maxWaitMs as number };
}

/** @internal A call-time argument of `TaskQueue` (paging, a timeout, an id list), with the module's bounds. */
export const argument = {
  count(name: string, value: unknown): number | undefined {
    return integer(name, value, 0, Number.MAX_SAFE_INTEGER, argumentError, 'Pass an integer, or leave it out.');
  },
  timerMs(name: string, value: unknown): number | undefined {
    return integer(name, value, 0, MAX_TIMER_MS, argumentError, TIMER_FIX);
  },
  progress(value: unknown): number | object {
    if ((typeof value === 'number' && Number.isFinite(value)) || (value !== null && typeof value === 'object')) {
      try {
        // Stored as JSON (BullMQ) or as a copy (memory): it must survive the trip, and a copy keeps later
        // mutations of the handler's object out of what getTask shows.
        return typeof value === 'number' ? value : (JSON.parse(JSON.stringify(value)) as object);
      } catch {
        // Falls through to the error below.
      }
    }
    throw argumentError(
      INVALID_OPTION(
        'context.progress(value)',
        value,
        'a finite number or a JSON object',
        'Report e.g. 42 or { done, total }.',
      ),
    );
  },
  logLine(value: unknown): string {
    if (typeof value !== 'string') {
      throw argumentError(INVALID_OPTION('context.log(line)', value, 'a string', 'Format the line first.'));
    }
    return value;
  },
  /** An options object of a call, or an `enqueueMany` item: only the keys its type declares. */
  keys<C = undefined>(
    path: string | ((context: C) => string),
    value: object,
    known: readonly string[],
    context?: C,
  ): void {
    onlyKeys(path, value, known, argumentError, context);
  },
  array(name: string, value: unknown, expected: string): void {
    if (!Array.isArray(value)) throw argumentError(INVALID_OPTION(name, value, expected, 'Pass an array.'));
  },
  ids(name: string, value: unknown): readonly string[] {
    const list = typeof value === 'string' ? [value] : value;
    if (!Array.isArray(list) || !list.every((id) => typeof id === 'string' && id !== '')) {
      throw argumentError(
        INVALID_OPTION(
          name,
          value,
          'a task id or an array of task ids (non-empty strings)',
          'Pass ids from TaskRef.id.',
        ),
      );
    }
    return list;
  },
};

const argumentError = (m: string) => new InvalidTaskQueueArgumentError(m);
const enqueueError = (m: string) => new InvalidEnqueueOptionsError(m);
