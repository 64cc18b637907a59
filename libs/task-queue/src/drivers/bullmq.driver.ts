import { Logger } from '@nestjs/common';
import { type ConnectionOptions, type Job, Queue, UnrecoverableError, WaitingError, Worker } from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import type { TaskInfo, TaskState } from '../interfaces/task-info.interface.js';
import type { TaskQueueStats } from '../interfaces/task-queue-stats.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { ResolvedTaskQueueOptions } from '../task-queue.options.js';
import { NO_HANDLER_ON_WORKER, TASKS_REQUEUED_AT_SHUTDOWN } from '../task-queue.messages.js';
import { type RegisteredTaskHandler, TaskRun, type TaskRunner } from '../task-runner.js';
import { type NewTask, TaskQueueDriver } from './task-queue.driver.js';

/**
 * One attempt of one BullMQ job. It settles the promise BullMQ awaits directly: the success path costs the
 * handler's own promise plus this one, and nothing else per job.
 */
class BullRun extends TaskRun {
  constructor(
    private readonly driver: BullMqTaskQueueDriver,
    private readonly job: Job,
    private readonly token: string | undefined,
    private readonly resolve: (value: unknown) => void,
  ) {
    super(job.id as string, job.name, job.attemptsMade + 1, job.data);
  }

  settle(error: unknown, result: unknown, failed: boolean): void {
    this.resolve(failed ? this.driver.failed(this.job, this.token, error) : result);
  }
}

const STATES: Record<string, TaskState> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  delayed: 'delayed',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

/**
 * @internal BullMQ driver: one BullMQ queue for every task name (dispatched by `job.name`), one Worker per
 * instance (when workers are on) whose options come from the module configuration. The queue is created here and
 * exposed under @nestjs/bullmq's `getQueueToken(queueName)`, so `@InjectQueue(queueName)` and bull-board see it.
 */
export class BullMqTaskQueueDriver extends TaskQueueDriver {
  readonly kind = 'bullmq';
  readonly queue: Queue;
  private worker: Worker | undefined;
  private handlers: ReadonlyMap<string, RegisteredTaskHandler> = new Map();
  private readonly logger = new Logger('TaskQueue');
  private lastErrorLog = 0;
  private readonly clusters: Cluster[] = [];
  // Built once and shared by every job: BullMQ's `age` is in seconds.
  private readonly removeOnComplete: { count: number; age: number };
  private readonly removeOnFail: { count: number; age: number };

  constructor(
    private readonly runner: TaskRunner,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    super();
    const { completed, dead } = options.retention;
    this.removeOnComplete = { count: completed.count, age: Math.ceil(completed.ageMs / 1_000) };
    this.removeOnFail = { count: dead.count, age: Math.ceil(dead.ageMs / 1_000) };
    // The producer connection fails fast while Redis is away (no offline queue, one retry, a command timeout),
    // so `enqueue` reports the failure to its caller instead of hanging.
    const failFast = { maxRetriesPerRequest: 1, commandTimeout: options.enqueueTimeoutMs };
    this.queue = new Queue(options.queueName, {
      connection: options.cluster
        ? this.openCluster(false, failFast)
        : ({ ...options.connection, enableOfflineQueue: false, ...failFast } as ConnectionOptions),
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    });
    this.queue.on('error', (error) => this.logConnectionError(error));
  }

  async start(handlers: ReadonlyMap<string, RegisteredTaskHandler>): Promise<void> {
    this.handlers = handlers;
    const tuning = this.options.bullmq;
    this.worker = new Worker(
      this.options.queueName,
      // Two parameters on purpose: a processor that takes BullMQ's third (signal) argument makes the Worker
      // create an AbortController for every job. context.signal is created only when a handler reads it.
      (job: Job, token?: string) => this.process(job, token),
      {
        // A worker's blocking connection must retry forever (BullMQ requires maxRetriesPerRequest: null).
        connection: this.options.cluster
          ? this.openCluster(true, { maxRetriesPerRequest: null })
          : ({ ...this.options.connection } as ConnectionOptions),
        ...(this.options.prefix !== undefined ? { prefix: this.options.prefix } : {}),
        concurrency: this.options.concurrency,
        ...(tuning.lockDurationMs !== undefined ? { lockDuration: tuning.lockDurationMs } : {}),
        ...(tuning.stalledIntervalMs !== undefined ? { stalledInterval: tuning.stalledIntervalMs } : {}),
        ...(tuning.maxStalledCount !== undefined ? { maxStalledCount: tuning.maxStalledCount } : {}),
      },
    );
    this.worker.on('error', (error) => this.logConnectionError(error));
  }

  async enqueue(tasks: readonly NewTask[]): Promise<TaskRef[]> {
    const jobs = tasks.map((t) => ({ name: t.name, data: t.payload, opts: this.jobOptions(t) }));
    try {
      const added = await withTimeout(
        jobs.length === 1
          ? this.queue.add(jobs[0].name, jobs[0].data, jobs[0].opts).then((job) => [job])
          : this.queue.addBulk(jobs),
        this.options.enqueueTimeoutMs,
      );
      return added.map((job) => ({ id: job.id as string, name: job.name }));
    } catch (error) {
      throw new TaskEnqueueError(
        tasks.map((t) => t.name),
        error,
      );
    }
  }

  async getTask(id: string): Promise<TaskInfo | undefined> {
    const job = await this.queue.getJob(id);
    if (job === undefined) return undefined;
    const state = STATES[await job.getState()];
    return state === undefined ? undefined : info(job, state);
  }

  async listDead(offset: number, limit: number): Promise<TaskInfo[]> {
    if (limit <= 0) return [];
    const jobs = await this.queue.getFailed(offset, offset + limit - 1);
    return jobs.filter((job) => job !== undefined).map((job) => info(job, 'failed'));
  }

  async retryDead(ids: readonly string[] | 'all'): Promise<number> {
    let moved = 0;
    const retry = async (job: Job | undefined) => {
      if (job === undefined || !(await job.isFailed())) return;
      await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
      moved++;
    };
    if (ids === 'all') {
      for (;;) {
        const page = await this.queue.getFailed(0, 499);
        if (page.length === 0) break;
        const before = moved;
        for (const job of page) await retry(job);
        if (moved === before) break;
      }
    } else {
      for (const id of ids) await retry(await this.queue.getJob(id));
    }
    return moved;
  }

  async stats(): Promise<Omit<TaskQueueStats, 'processed' | 'failedAttempts' | 'durations'>> {
    const c = await this.queue.getJobCounts(
      'waiting',
      'prioritized',
      'waiting-children',
      'active',
      'delayed',
      'failed',
      'completed',
    );
    return {
      driver: 'bullmq',
      waiting: c.waiting + c.prioritized + c['waiting-children'],
      active: c.active,
      delayed: c.delayed,
      failed: c.failed,
      completed: c.completed,
    };
  }

  async waitUntilIdle(timeoutMs?: number): Promise<void> {
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const c = await this.queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed');
      const busy = c.waiting + c.prioritized + c.active + c.delayed;
      if (busy === 0) return;
      if (Date.now() >= deadline) {
        throw new Error(
          `The task queue was not idle after ${timeoutMs} ms: ${c.waiting + c.prioritized} waiting, ` +
            `${c.delayed} delayed, ${c.active} active.`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  async drain(deadlineMs: number): Promise<void> {
    const worker = this.worker;
    if (worker === undefined) return;
    // close() stops fetching at once and resolves when the running jobs are done; past the deadline the
    // stragglers are aborted, and `process` hands them back to the queue.
    const closed = worker.close();
    const timer = setTimeout(() => {
      const ids = this.runner.abortAll((run) => new TaskAbortedError(run.name, deadlineMs));
      if (ids.length > 0) this.logger.warn(TASKS_REQUEUED_AT_SHUTDOWN(deadlineMs, ids));
    }, deadlineMs);
    try {
      await closed;
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    await this.worker?.close();
    await this.queue.close();
    // BullMQ closes the connections it duplicated but leaves the clients it was given open.
    for (const cluster of this.clusters) cluster.disconnect();
  }

  /** An ioredis Cluster client (the `cluster` connection option), owned and closed by this driver. */
  private openCluster(offlineQueue: boolean, redisOptions: RedisOptions): Cluster {
    const { nodes, options } = this.options.cluster as NonNullable<ResolvedTaskQueueOptions['cluster']>;
    const cluster = new Cluster(nodes, {
      ...options,
      ...(offlineQueue ? {} : { enableOfflineQueue: false }),
      redisOptions: { ...options.redisOptions, ...redisOptions },
    });
    cluster.on('error', (error: Error) => this.logConnectionError(error));
    this.clusters.push(cluster);
    return cluster;
  }

  private process(job: Job, token: string | undefined): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (handler === undefined) return Promise.reject(new UnrecoverableError(NO_HANDLER_ON_WORKER(job.name)));
    return new Promise((resolve) => this.runner.execute(handler, new BullRun(this, job, token, resolve)));
  }

  /** @internal The rejection BullMQ gets for a failed attempt (called by `BullRun.settle`). */
  async failed(job: Job, token: string | undefined, error: unknown): Promise<never> {
    if (error instanceof TaskAbortedError) {
      // Aborted at the shutdown deadline: back to waiting without using up an attempt.
      await job.moveToWait(token);
      throw new WaitingError();
    }
    if (NonRetryableError.is(error) && !(error instanceof UnrecoverableError)) {
      const unrecoverable = new UnrecoverableError((error as Error).message);
      unrecoverable.stack = (error as Error).stack;
      throw unrecoverable;
    }
    throw error instanceof Error ? error : new Error(String(error));
  }

  private jobOptions(t: NewTask) {
    return {
      attempts: t.attempts,
      // A single attempt never backs off: leaving it out keeps the job hash (read by every BullMQ script) smaller.
      ...(t.attempts > 1
        ? { backoff: { type: t.backoff.type, delay: t.backoff.delayMs, jitter: t.backoff.jitter } }
        : {}),
      ...(t.delayMs > 0 ? { delay: t.delayMs } : {}),
      ...(t.priority > 0 ? { priority: t.priority } : {}),
      ...(t.dedupKey !== undefined ? { deduplication: { id: t.dedupKey, ttl: this.options.dedupWindowMs } } : {}),
      removeOnComplete: this.removeOnComplete,
      removeOnFail: this.removeOnFail,
    };
  }

  private logConnectionError(error: Error): void {
    // Redis outages make ioredis report every reconnect attempt; one line every 5 s is enough.
    const now = Date.now();
    if (now - this.lastErrorLog < 5_000) return;
    this.lastErrorLog = now;
    this.logger.warn(`Redis error in the task queue: ${error.message}`);
  }
}

function info(job: Job, state: TaskState): TaskInfo {
  const stack = job.stacktrace?.at(-1) ?? undefined;
  return {
    id: job.id as string,
    name: job.name,
    state,
    payload: job.data,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    ...(state === 'completed' ? { result: job.returnvalue } : {}),
    ...(job.failedReason
      ? {
          error: {
            name: stack?.match(/^([\w$]+)(?::|\n|$)/)?.[1] ?? 'Error',
            message: job.failedReason,
            ...(stack ? { stack } : {}),
          },
        }
      : {}),
    createdAt: job.timestamp,
    ...(job.finishedOn !== undefined ? { finishedAt: job.finishedOn } : {}),
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
