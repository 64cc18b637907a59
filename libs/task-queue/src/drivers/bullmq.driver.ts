import { Logger } from '@nestjs/common';
import {
  type ConnectionOptions,
  DelayedError,
  Job,
  type MinimalJob,
  Queue,
  UnrecoverableError,
  WaitingError,
} from 'bullmq';
import { Cluster, type RedisOptions } from 'ioredis';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import type { TaskInfo, TaskState } from '../interfaces/task-info.interface.js';
import type { TaskQueueStats } from '../interfaces/task-queue-stats.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import { MAX_TASK_LOG_LINES, RECONNECT_DELAY_STEP_MS, SCHEDULE_ID_PREFIX } from '../task-queue.constants.js';
import { FAIR_PRIORITY_SCRIPT } from '../fair-priority.js';
import { RATE_WINDOW_SCRIPT } from '../rate-limit.js';
import { TaskEvents } from '../task-events.js';
import type { ResolvedTaskQueueOptions } from '../task-queue.options.js';
import { CONNECTIONS_FORCED_CLOSED, NO_HANDLER_ON_WORKER, TASKS_REQUEUED_AT_SHUTDOWN } from '../task-queue.messages.js';
import { type RegisteredTaskHandler, TaskRun, type TaskRunner } from '../task-runner.js';
import { type NewTask, type ScheduledNewTask, TaskQueueDriver } from './task-queue.driver.js';
import { readTask } from './bullmq-task-info.js';
import { TaskQueueWorker } from './task-queue-worker.js';
import { BullRetentionSweep } from './bullmq-retention-sweep.js';
import {
  CLOSE_GRACE_MS,
  disconnectNow,
  type IoRedisEval,
  settlesWithin,
  SOCKET_CLOSE,
  withTimeout,
} from './bullmq-connection.js';
import { converted, emitWorkerEvents } from './bullmq-worker-events.js';

/** Dead tasks retried per batch of concurrent Redis calls by `retryDead`. */
const RETRY_PAGE = 500;

/**
 * One attempt of one BullMQ job. It settles the promise BullMQ awaits directly: the success path costs the
 * handler's own promise plus this one, and nothing else per job.
 */
class BullRun extends TaskRun {
  constructor(
    private readonly driver: BullMqTaskQueueDriver,
    private readonly job: Job,
    private readonly resolve: (value: unknown) => void,
  ) {
    super(job.id as string, job.name, job.attemptsMade + 1, job.data);
  }

  settle(error: unknown, result: unknown, failed: boolean): void {
    // BullMQ sets the job's lock token before it calls the processor.
    this.resolve(failed ? this.driver.failed(this.job, this.job.token, error) : result);
  }

  /** BullMQ's own trace field (a JSON carrier, as bullmq-otel writes it), whatever wrote the job. */
  override traceCarrier(): unknown {
    return (this.job.opts.telemetry as { metadata?: unknown } | undefined)?.metadata;
  }

  protected async reportProgress(value: number | object): Promise<void> {
    await this.job.updateProgress(value);
    this.driver.events.emit('progress', this.id, this.name, this.attempt, value);
  }

  protected async appendLog(line: string): Promise<void> {
    // The job's own log() trims to its opts.keepLogs, which no job carries (it would grow every job hash).
    await Job.addJobLog(this.driver.queue, this.id, line, MAX_TASK_LOG_LINES);
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
  readonly events: TaskEvents;
  private worker: TaskQueueWorker | undefined;
  private closed = false;
  private handlers: ReadonlyMap<string, RegisteredTaskHandler> = new Map();
  private readonly logger = new Logger('TaskQueue');
  private lastErrorLog = 0;
  private readonly clusters: Cluster[] = [];
  /** Retention's age, on worker instances only (its count is the Worker's). */
  private sweep: BullRetentionSweep | undefined;
  /**
   * Every connection's reconnect delay: 50, 100, … ms up to `bullmq.reconnectMaxDelayMs`. BullMQ's default
   * (1 s at first, growing to 20 s) left the queue failing for seconds after Redis was back.
   */
  private readonly retryStrategy: (times: number) => number;

  constructor(
    private readonly runner: TaskRunner,
    private readonly options: ResolvedTaskQueueOptions,
  ) {
    super();
    this.events = new TaskEvents(options.queueName);
    const maxDelayMs = options.bullmq.reconnectMaxDelayMs;
    this.retryStrategy = (times) => Math.min(times * RECONNECT_DELAY_STEP_MS, maxDelayMs);
    // The producer connection fails fast while Redis is away (no offline queue, one retry, a command timeout),
    // so `enqueue` reports the failure to its caller instead of hanging.
    const failFast = { maxRetriesPerRequest: 1, commandTimeout: options.enqueueTimeoutMs, ...SOCKET_CLOSE };
    this.queue = new Queue(options.queueName, {
      connection: options.cluster
        ? this.openCluster(false, failFast)
        : ({
            ...SOCKET_CLOSE,
            retryStrategy: this.retryStrategy,
            ...options.connection,
            enableOfflineQueue: false,
            ...failFast,
          } as ConnectionOptions),
      ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    });
    this.queue.on('error', (error) => this.logConnectionError(error));
  }

  async start(handlers: ReadonlyMap<string, RegisteredTaskHandler>): Promise<void> {
    this.handlers = handlers;
    const tuning = this.options.bullmq;
    this.worker = new TaskQueueWorker(
      this.options.queueName,
      // Two parameters on purpose: a processor that takes BullMQ's third (signal) argument makes the Worker
      // create an AbortController for every job. context.signal is created only when a handler reads it.
      (job: Job, token?: string) => this.process(job, token),
      {
        // A worker's blocking connection must retry forever (BullMQ requires maxRetriesPerRequest: null).
        connection: this.options.cluster
          ? this.openCluster(true, { maxRetriesPerRequest: null, ...SOCKET_CLOSE })
          : ({ ...SOCKET_CLOSE, retryStrategy: this.retryStrategy, ...this.options.connection } as ConnectionOptions),
        ...(this.options.prefix !== undefined ? { prefix: this.options.prefix } : {}),
        concurrency: this.options.concurrency,
        // A fetch that failed on a dropped connection waits this long before the next (BullMQ default 15 s).
        runRetryDelay: tuning.reconnectMaxDelayMs,
        ...(tuning.lockDurationMs !== undefined ? { lockDuration: tuning.lockDurationMs } : {}),
        ...(tuning.stalledIntervalMs !== undefined ? { stalledInterval: tuning.stalledIntervalMs } : {}),
        ...(tuning.maxStalledCount !== undefined ? { maxStalledCount: tuning.maxStalledCount } : {}),
        // Retention's count is the worker's, not each job's: every finish goes through a worker (a job stalled
        // too often too), and BullMQ applies these to a job without its own. The job hash then carries no
        // retention, so each fetch reads and parses that much less. Its age is the sweep's.
        removeOnComplete: { count: this.options.retention.completed.count },
        removeOnFail: { count: this.options.retention.dead.count },
      },
    );
    this.worker.on('error', (error) => this.logConnectionError(error));
    this.sweep = new BullRetentionSweep(this.queue, this.options.retention, (error) => this.logConnectionError(error));
    this.sweep.start();
    emitWorkerEvents(this.worker, this.events, this.queue);
  }

  /**
   * One BullMQ job scheduler per schedule, id `nest-scale:<task>`: an upsert with the same id is idempotent, so N
   * replicas make one schedule, and BullMQ adds one job per occurrence (its id carries the occurrence time, so
   * concurrent upserts cannot add it twice). Schedulers of this module that the code no longer declares are
   * removed; others on the queue are left alone.
   */
  async schedule(schedules: readonly ScheduledNewTask[]): Promise<void> {
    await withTimeout(this.syncSchedulers(schedules), this.options.enqueueTimeoutMs);
  }

  private async syncSchedulers(schedules: readonly ScheduledNewTask[]): Promise<void> {
    const wanted = new Set<string>();
    for (const { name, schedule, task } of schedules) {
      const id = SCHEDULE_ID_PREFIX + name;
      wanted.add(id);
      const { attempts, backoff } = this.jobOptions(task);
      await this.queue.upsertJobScheduler(
        id,
        schedule.kind === 'cron' ? { pattern: schedule.cron, tz: schedule.tz } : { every: schedule.everyMs },
        { name, data: task.payload, opts: { attempts, ...(backoff ? { backoff } : {}) } },
      );
    }
    for (const existing of await this.queue.getJobSchedulers(0, -1)) {
      if (existing.key.startsWith(SCHEDULE_ID_PREFIX) && !wanted.has(existing.key)) {
        await this.queue.removeJobScheduler(existing.key);
      }
    }
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
      refs = await withTimeout(this.addTasks(tasks), this.options.enqueueTimeoutMs);
    } catch (error) {
      throw new TaskEnqueueError(
        tasks.map((t) => t.name),
        error,
      );
    }
    if (this.events.has('enqueued')) for (const ref of refs) this.events.emit('enqueued', ref.id, ref.name, undefined);
    return refs;
  }

  async getTask(id: string): Promise<TaskInfo | undefined> {
    const state = STATES[await this.queue.getJobState(id)];
    if (state === undefined) return undefined;
    return readTask(this.queue, id, state);
  }

  async listDead(offset: number, limit: number): Promise<TaskInfo[]> {
    if (limit <= 0) return [];
    const ids = await this.queue.getRanges(['failed'], offset, offset + limit - 1);
    const tasks = await Promise.all(ids.map((id) => readTask(this.queue, id, 'failed')));
    return tasks.filter((task) => task !== undefined);
  }

  /**
   * Retries each given dead task once. `'all'` snapshots the dead set first: a task that fails again during the
   * call lands back in it, and re-reading it would retry that task without end. The retry script needs only the
   * id, so a job whose hash cannot be parsed is retried (and fails again, readably) rather than throwing.
   */
  async retryDead(ids: readonly string[] | 'all'): Promise<number> {
    const chosen = ids === 'all' ? await this.queue.getRanges(['failed'], 0, -1) : [...new Set(ids)];
    const options = { resetAttemptsMade: true, resetAttemptsStarted: true };
    let moved = 0;
    for (let i = 0; i < chosen.length; i += RETRY_PAGE) {
      const page = chosen.slice(i, i + RETRY_PAGE);
      const results = await Promise.allSettled(
        page.map((id) => this.queue.backend.retryFinishedJob({ id, opts: {} } as MinimalJob, 'failed', options)),
      );
      for (const result of results) {
        if (result.status === 'fulfilled') moved++;
        // The script's own answers (no such job, not dead) carry a numeric code and mean "skip"; anything else is
        // Redis failing, which the caller must hear about.
        else if (typeof (result.reason as { code?: unknown }).code !== 'number') throw result.reason;
      }
    }
    return moved;
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
    // BullMQ closes the connections it duplicated but leaves the clients it was given open.
    for (const cluster of this.clusters) cluster.disconnect();
  }

  private async addTasks(tasks: readonly NewTask[]): Promise<TaskRef[]> {
    const jobs = tasks.map((t) => ({ name: t.name, data: t.payload, opts: this.jobOptions(t) }));
    if (tasks.some((t) => t.group !== undefined)) {
      // One more round trip, for grouped tasks only: their round-robin priorities, from Redis for all producers.
      const grouped = tasks.flatMap((t, i) => (t.group === undefined ? [] : [i]));
      const client = (await this.queue.backend.client) as unknown as IoRedisEval;
      const priorities = (await client.eval(
        FAIR_PRIORITY_SCRIPT,
        3,
        this.queue.toKey('prioritized'),
        this.queue.toKey('groups'),
        this.queue.toKey('groups:highest'),
        ...grouped.map((i) => tasks[i].group as string),
      )) as number[];
      grouped.forEach((i, k) => (jobs[i].opts = { ...jobs[i].opts, priority: priorities[k] }));
    }
    return this.add(jobs, tasks);
  }

  /** Ids and names of the added jobs; a dedup hit answers with the original task's name, as the memory driver. */
  private async add(jobs: { name: string; data: unknown; opts: object }[], tasks: readonly NewTask[]) {
    const added =
      jobs.length === 1
        ? [await this.queue.add(jobs[0].name, jobs[0].data, jobs[0].opts)]
        : await this.queue.addBulk(jobs);
    const refs: { id: string; name: string }[] = added.map((job) => ({ id: job.id as string, name: job.name }));
    if (!tasks.some((t) => t.dedupKey !== undefined)) return refs as TaskRef[];
    // BullMQ answers a dedup hit with the original's id but the new call's name: read the stored name.
    const deduped = refs.filter((_, i) => tasks[i].dedupKey !== undefined);
    const client = await this.queue.backend.client;
    const names = await Promise.all(deduped.map((ref) => client.hget(this.queue.toKey(ref.id), 'name')));
    deduped.forEach((ref, i) => (ref.name = names[i] ?? ref.name));
    return refs as TaskRef[];
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
    cluster.on('error', (error: Error) => this.logConnectionError(error));
    this.clusters.push(cluster);
    return cluster;
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

  private jobOptions(t: NewTask): {
    attempts: number;
    backoff?: { type: string; delay: number; jitter: number };
    delay?: number;
    priority?: number;
    deduplication?: { id: string; ttl: number };
    telemetry?: { metadata: string };
  } {
    return {
      attempts: t.attempts,
      // A single attempt never backs off: leaving it out keeps the job hash (read by every BullMQ script) smaller.
      ...(t.attempts > 1
        ? { backoff: { type: t.backoff.type, delay: t.backoff.delayMs, jitter: t.backoff.jitter } }
        : {}),
      ...(t.delayMs > 0 ? { delay: t.delayMs } : {}),
      ...(t.priority > 0 ? { priority: t.priority } : {}),
      ...(t.dedupKey !== undefined ? { deduplication: { id: t.dedupKey, ttl: this.options.dedupWindowMs } } : {}),
      ...(t.trace !== undefined ? { telemetry: { metadata: JSON.stringify(t.trace) } } : {}),
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
