import { Logger } from '@nestjs/common';
import { DelayedError, type Job, Queue, UnrecoverableError, WaitingError } from 'bullmq';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import type { TaskInfo } from '../interfaces/task-info.interface.js';
import type { TaskQueueStats } from '../interfaces/task-queue-stats.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import { RATE_WINDOW_SCRIPT } from '../rate-limit.js';
import { TaskEvents } from '../task-events.js';
import type { ResolvedTaskQueueOptions } from '../task-queue.options.js';
import { CONNECTIONS_FORCED_CLOSED, NO_HANDLER_ON_WORKER, TASKS_REQUEUED_AT_SHUTDOWN } from '../task-queue.messages.js';
import type { RegisteredTaskHandler, TaskRunner } from '../task-runner.js';
import { type NewTask, type ScheduledNewTask, TaskQueueDriver } from './task-queue.driver.js';
import { findTask } from './bullmq-task-info.js';
import { TaskQueueWorker } from './task-queue-worker.js';
import { BullRetentionSweep } from './bullmq-retention-sweep.js';
import { CLOSE_GRACE_MS, disconnectNow, type IoRedisEval, settlesWithin, withTimeout } from './bullmq-connection.js';
import { converted, emitWorkerEvents } from './bullmq-worker-events.js';
import { addTasks } from './bullmq-add-jobs.js';
import { BullDeadTasks } from './bullmq-dead-tasks.js';
import { BullRedisClients } from './bullmq-redis-clients.js';
import { BullRun } from './bullmq-task-run.js';
import { syncSchedulers } from './bullmq-schedulers.js';
import { workerOptions } from './bullmq-worker-options.js';

/**
 * @internal BullMQ driver: one BullMQ queue for every task name (dispatched by `job.name`), one Worker per
 * instance (when workers are on) whose options come from the module configuration. The queue is created here and
 * exposed under @nestjs/bullmq's `getQueueToken(queueName)`, so `@InjectQueue(queueName)` and bull-board see it.
 */
export class BullMqTaskQueueDriver extends TaskQueueDriver {
  readonly kind = 'bullmq';
  readonly queue: Queue;
  readonly events: TaskEvents;
  private worker: TaskQueueWorker | undefined;
  private closed = false;
  private handlers: ReadonlyMap<string, RegisteredTaskHandler> = new Map();
  private readonly logger = new Logger('TaskQueue');
  private readonly redis: BullRedisClients;
  private readonly dead: BullDeadTasks;
  /** Retention's age, on worker instances only (its count is the Worker's). */
  private sweep: BullRetentionSweep | undefined;

  constructor(
    private readonly runner: TaskRunner,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    super();
    this.events = new TaskEvents(options.queueName);
    this.redis = new BullRedisClients(options, this.logger);
    this.queue = new Queue(options.queueName, {
      connection: this.redis.producer(),
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    });
    this.queue.on('error', (error) => this.redis.logError(error));
    this.dead = new BullDeadTasks(this.queue);
  }

  async start(handlers: ReadonlyMap<string, RegisteredTaskHandler>): Promise<void> {
    this.handlers = handlers;
    this.worker = new TaskQueueWorker(
      this.options.queueName,
      // Two parameters on purpose: a processor that takes BullMQ's third (signal) argument makes the Worker
      // create an AbortController for every job. context.signal is created only when a handler reads it.
      (job: Job, token?: string) => this.process(job, token),
      workerOptions(this.options, this.redis.worker()),
    );
    this.worker.on('error', (error) => this.redis.logError(error));
    this.sweep = new BullRetentionSweep(this.queue, this.options.retention, (error) => this.redis.logError(error));
    this.sweep.start();
    emitWorkerEvents(this.worker, this.events, this.queue);
  }

  async schedule(schedules: readonly ScheduledNewTask[]): Promise<void> {
    await withTimeout(syncSchedulers(this.queue, schedules, this.options.dedupWindowMs), this.options.enqueueTimeoutMs);
  }

  async enqueue(tasks: readonly NewTask[]): Promise<TaskRef[]> {
    if (this.closed) {
      throw new TaskEnqueueError(
        tasks.map((t) => t.name),
        undefined,
        'shut-down',
      );
    }
    let refs: TaskRef[];
    try {
      refs = await withTimeout(addTasks(this.queue, tasks, this.options.dedupWindowMs), this.options.enqueueTimeoutMs);
    } catch (error) {
      throw new TaskEnqueueError(
        tasks.map((t) => t.name),
        error,
      );
    }
    if (this.events.has('enqueued')) for (const ref of refs) this.events.emit('enqueued', ref.id, ref.name, undefined);
    return refs;
  }

  getTask(id: string): Promise<TaskInfo | undefined> {
    return findTask(this.queue, id);
  }

  listDead(offset: number, limit: number): Promise<TaskInfo[]> {
    return this.dead.list(offset, limit);
  }

  retryDead(ids: readonly string[] | 'all'): Promise<number> {
    return this.dead.retry(ids);
  }

  /**
   * The wait list's oldest job (tasks without priority or group: prioritized ones are ordered by priority, not age,
   * and are not looked at); its ready time is its timestamp plus its delay. A hash that will not parse counts as none.
   */
  async oldestWaitingAt(): Promise<number | undefined> {
    const [id] = await this.queue.getRanges(['wait'], 0, 0, true);
    if (id === undefined) return undefined;
    const job = await this.queue.getJob(id).catch(() => undefined);
    if (job === undefined) return undefined;
    const at = job.timestamp + (job.delay || 0);
    return Number.isFinite(at) && at > 0 ? at : undefined;
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
    this.sweep?.stop();
    // close() stops fetching at once and resolves when the running jobs are done; past the deadline the
    // stragglers are aborted, and `process` hands them back to the queue.
    const closed = worker.close();
    const timer = setTimeout(() => {
      const ids = this.runner.abortAll((run) => new TaskAbortedError(run.name, deadlineMs));
      if (ids.length > 0) this.logger.warn(TASKS_REQUEUED_AT_SHUTDOWN(deadlineMs, ids));
    }, deadlineMs);
    try {
      // Without Redis, close() never resolves (finishing a job needs Redis): the deadline holds all the same,
      // and `close` cuts the connections.
      await settlesWithin(closed, deadlineMs + CLOSE_GRACE_MS);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    this.sweep?.stop();
    const closing = Promise.all([this.worker?.close(), this.queue.close()]);
    if (!(await settlesWithin(closing, CLOSE_GRACE_MS))) {
      this.logger.warn(CONNECTIONS_FORCED_CLOSED(CLOSE_GRACE_MS));
    }
    // Even a close that resolved can leave timers and a client reconnecting for good: on a dead Redis BullMQ's
    // quit() fails, and BullMQ marks the client ended without ending it.
    this.worker?.stopTimers();
    for (const holder of [this.worker, this.queue]) if (holder !== undefined) disconnectNow(holder.backend);
    this.redis.disconnectClusters();
  }

  /** A job that cannot be read never gets here: TaskQueueWorker marks it and BullMQ fails it first. */
  private process(job: Job, token: string | undefined): Promise<unknown> {
    const handler = this.handlers.get(job.name);
    if (handler === undefined) return Promise.reject(new UnrecoverableError(NO_HANDLER_ON_WORKER(job.name)));
    if (handler.rateLimit !== undefined) return this.processLimited(job, token, handler, handler.rateLimit);
    return new Promise((resolve) => this.runner.execute(handler, new BullRun(this, job, resolve)));
  }

  /**
   * A rate-limited handler: one round trip counts the run in the handler's window in Redis (shared by every
   * worker); over the limit the job goes back to delayed until the next window, without using an attempt.
   */
  private async processLimited(
    job: Job,
    token: string | undefined,
    handler: RegisteredTaskHandler,
    limit: { max: number; perMs: number },
  ): Promise<unknown> {
    const client = (await this.queue.backend.client) as unknown as IoRedisEval;
    const waitMs = Number(
      await client.eval(RATE_WINDOW_SCRIPT, 1, this.queue.toKey(`rate:${handler.name}`), limit.max, limit.perMs),
    );
    if (waitMs > 0) {
      await job.moveToDelayed(Date.now() + waitMs, token);
      throw new DelayedError();
    }
    return new Promise((resolve) => this.runner.execute(handler, new BullRun(this, job, resolve)));
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
      unrecoverable.cause = error;
      unrecoverable.stack = (error as Error).stack;
      converted.add(unrecoverable);
      throw unrecoverable;
    }
    throw error instanceof Error ? error : new Error(String(error));
  }
}
