import {
  type BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnApplicationShutdown,
  type OnModuleInit,
} from '@nestjs/common';
import type { Queue } from 'bullmq';
import { BullMqTaskQueueDriver } from './drivers/bullmq.driver.js';
import { type NewTask, TaskQueueDriver } from './drivers/task-queue.driver.js';
import { UnknownTaskError } from './errors/unknown-task.error.js';
import type { EnqueueManyItem, EnqueueOptions } from './interfaces/enqueue-options.interface.js';
import type { TaskEventListener, TaskEventName } from './interfaces/task-event.interface.js';
import type { TaskInfo } from './interfaces/task-info.interface.js';
import type { TaskQueueStats } from './interfaces/task-queue-stats.interface.js';
import type { TaskRef } from './interfaces/task-ref.interface.js';
import { TASK_EVENT_NAMES } from './task-events.js';
import { toTaskPayload } from './task-payload.js';
import { RESOLVED_TASK_QUEUE_OPTIONS } from './task-queue.constants.js';
import { TaskQueueExplorer } from './task-queue.explorer.js';
import {
  INVALID_OPTION,
  MISSING_SHUTDOWN_HOOKS,
  SCHEDULES_NOT_REGISTERED,
  UNKNOWN_TASK_EVENT,
} from './task-queue.messages.js';
import { InvalidTaskQueueArgumentError } from './errors/invalid-task-queue-argument.error.js';
import {
  argument,
  ENQUEUE_MANY_ITEM_KEYS,
  LIST_DEAD_OPTION_KEYS,
  resolveEnqueueOptions,
  type ResolvedTaskQueueOptions,
  WAIT_UNTIL_IDLE_OPTION_KEYS,
} from './task-queue.options.js';
import { type RegisteredTaskHandler, TaskRunner } from './task-runner.js';

/**
 * @publicApi Enqueue tasks and inspect one queue (the `forRoot` one is injected as `TaskQueue`, a `registerQueue`
 * one with `@InjectTaskQueue(name)`). Handlers are the `@TaskHandler` methods of this queue found at init; workers
 * start in `onApplicationBootstrap`, drain (with `shutdownDeadlineMs`) in `beforeApplicationShutdown`, and
 * connections close in `onApplicationShutdown`.
 */
@Injectable()
export class TaskQueue
  implements OnModuleInit, OnApplicationBootstrap, BeforeApplicationShutdown, OnApplicationShutdown
{
  private readonly logger = new Logger('TaskQueue');
  private handlers: Map<string, RegisteredTaskHandler> | undefined;
  private hooksCheck: ReturnType<typeof setTimeout> | undefined;

  constructor(
    @Inject(RESOLVED_TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
    private readonly driver: TaskQueueDriver,
    private readonly runner: TaskRunner,
    private readonly explorer: TaskQueueExplorer,
  ) {
    explorer.claim(options.queueName);
    runner.telemetry.watch(driver);
  }

  /** The queue's name (`queueName` of `forRoot`, or the `name` of `registerQueue`). */
  get name(): string {
    return this.options.queueName;
  }

  /**
   * Adds a task. Rejects at once with `UnknownTaskError` for a name no `@TaskHandler` declares,
   * `UnserializablePayloadError` for a payload JSON cannot carry, `InvalidEnqueueOptionsError` for a bad option,
   * and `TaskEnqueueError` when Redis does not take it (bounded by `enqueueTimeoutMs`).
   */
  enqueue<P = unknown>(name: string, payload?: P, options?: EnqueueOptions): Promise<TaskRef> {
    let task: NewTask;
    try {
      task = this.prepare(name, payload, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const telemetry = this.runner.telemetry;
    let added: Promise<TaskRef>;
    if (!telemetry.recordsEnqueue()) added = this.driver.enqueueOne(task);
    else if (this.driver.addOne !== undefined) {
      try {
        added = Promise.resolve(telemetry.sendNow(task, this.driver.addOne));
      } catch (error) {
        added = Promise.reject(error);
      }
    } else added = telemetry.send([task], () => this.driver.enqueueOne(task), false);
    return added;
  }

  /**
   * Calls `listener` for each `event` that happens on this instance to a task of this queue (see `TaskEventName`).
   * Returns a function that removes it. A listener that throws or rejects is logged; the queue carries on.
   */
  on(event: TaskEventName, listener: TaskEventListener): () => void {
    if (!TASK_EVENT_NAMES.includes(event)) {
      throw new InvalidTaskQueueArgumentError(UNKNOWN_TASK_EVENT('on(event)', event, TASK_EVENT_NAMES));
    }
    if (typeof listener !== 'function') {
      throw new InvalidTaskQueueArgumentError(
        INVALID_OPTION('on(event, listener)', typeof listener, 'a function', 'Pass (event) => { … }.'),
      );
    }
    return this.driver.events.on(event, listener);
  }

  /** Adds several tasks in one round trip. Every item is validated first: one bad item enqueues nothing. */
  async enqueueMany(items: readonly EnqueueManyItem[]): Promise<TaskRef[]> {
    argument.array('enqueueMany(items)', items, 'an array of { name, payload?, options? }');
    if (items.length === 0) return [];
    const tasks = items.map((item, i) => {
      argument.keys(enqueueManyItemPath, item, ENQUEUE_MANY_ITEM_KEYS, i);
      return this.prepare(item.name, item.payload, item.options);
    });
    const telemetry = this.runner.telemetry;
    const refs = await (telemetry.recordsEnqueue()
      ? telemetry.send(tasks, () => this.driver.enqueue(tasks), this.driver.kind === 'memory')
      : this.driver.enqueue(tasks));
    return refs;
  }

  /** A task by id: waiting, delayed, active, failed (dead), or completed while still retained (`keepCompleted`). */
  getTask(id: string): Promise<TaskInfo | undefined> {
    return this.driver.getTask(id);
  }

  /** Dead tasks (attempts exhausted or non-retryable), most recent first, with payload, last error and attempts. */
  async listDead(options: { offset?: number; limit?: number } = {}): Promise<TaskInfo[]> {
    argument.keys('listDead(options)', options, LIST_DEAD_OPTION_KEYS);
    return this.driver.listDead(
      argument.count('listDead({ offset })', options.offset) ?? 0,
      argument.count('listDead({ limit })', options.limit) ?? 100,
    );
  }

  /** Moves dead tasks back to waiting with a fresh attempts budget. Returns how many were moved. */
  async retryDead(ids: string | readonly string[]): Promise<number> {
    return this.driver.retryDead(argument.ids('retryDead(ids)', ids));
  }

  retryAllDead(): Promise<number> {
    return this.driver.retryDead('all');
  }

  async stats(): Promise<TaskQueueStats> {
    const counts = await this.driver.stats();
    return {
      ...counts,
      processed: this.runner.processed,
      failedAttempts: this.runner.failedAttempts,
      durations: this.runner.durationStats(),
    };
  }

  /**
   * How long the task that has waited longest to run has been ready (ms), or undefined when none waits. BullMQ: the
   * oldest task without priority or group, across the whole queue; memory: every waiting task.
   */
  async oldestWaitingAgeMs(): Promise<number | undefined> {
    const at = await this.driver.oldestWaitingAt();
    return at === undefined ? undefined : Math.max(0, Date.now() - at);
  }

  /**
   * Resolves once nothing is waiting, delayed (including retries in backoff) or running. With the memory driver
   * and fake timers, advance the clock for delayed tasks. Rejects after `timeoutMs` when given.
   */
  async waitUntilIdle(options: { timeoutMs?: number } = {}): Promise<void> {
    argument.keys('waitUntilIdle(options)', options, WAIT_UNTIL_IDLE_OPTION_KEYS);
    return this.driver.waitUntilIdle(argument.timerMs('waitUntilIdle({ timeoutMs })', options.timeoutMs));
  }

  /** The BullMQ queue behind the `bullmq` driver (for bull-board or raw BullMQ calls); undefined with `memory`. */
  get bullQueue(): Queue | undefined {
    return this.driver instanceof BullMqTaskQueueDriver ? this.driver.queue : undefined;
  }

  /** Names of the discovered task handlers. */
  taskNames(): string[] {
    return [...this.handlerMap().keys()];
  }

  onModuleInit(): void {
    this.handlerMap();
    for (const { event, listener } of this.explorer.listenersOf(this.options.queueName)) {
      this.driver.events.on(event, listener);
    }
    // Every queue of the application exists by now (Nest creates all providers before any init hook).
    this.explorer.checkQueuesExist();
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.workers) await this.driver.start(this.handlerMap());
    this.registerSchedules();
    if (this.options.warnWithoutShutdownHooks) {
      // enableShutdownHooks() is often called right after init/listen, so look a moment later.
      this.hooksCheck = setTimeout(() => {
        if (process.listenerCount('SIGTERM') === 0) this.logger.warn(MISSING_SHUTDOWN_HOOKS);
      }, 1_000);
      this.hooksCheck.unref();
    }
  }

  async beforeApplicationShutdown(): Promise<void> {
    clearTimeout(this.hooksCheck);
    await this.driver.drain(this.options.shutdownDeadlineMs);
  }

  async onApplicationShutdown(): Promise<void> {
    this.runner.telemetry.close();
    await this.driver.close();
  }

  /**
   * Every instance registers the queue's schedules (the driver makes that idempotent). Without workers the memory
   * driver has nobody to run them, so it keeps none. Redis failing here is logged, not fatal, and the boot does not
   * wait for it: the other replicas, or the next boot, register the same schedules.
   */
  private registerSchedules(): void {
    if (this.driver.kind === 'memory' && !this.options.workers) return;
    // A schedule's payload is checked here, so a bad one fails the boot.
    const entries = [...this.explorer.schedulesOf(this.options.queueName)].map(([name, schedule]) => ({
      name,
      schedule,
      task: this.prepare(name, schedule.payload, undefined),
    }));
    // Not awaited: a boot never waits for Redis (the BullMQ driver bounds the registration by enqueueTimeoutMs).
    this.driver
      .schedule(entries)
      .catch((error: unknown) => this.logger.error(SCHEDULES_NOT_REGISTERED(this.options.queueName, error)));
  }

  private handlerMap(): Map<string, RegisteredTaskHandler> {
    return (this.handlers ??= this.explorer.handlersOf(this.options));
  }

  private prepare(name: string, payload: unknown, options: EnqueueOptions | undefined): NewTask {
    const handler = this.handlerMap().get(name);
    if (handler === undefined) {
      throw new UnknownTaskError(
        name,
        [...this.handlerMap().keys()],
        this.options.queueName,
        this.explorer.queuesHandling(name, this.options.queueName),
      );
    }
    const value = toTaskPayload(name, payload);
    if (options === undefined) {
      return {
        name,
        payload: value,
        delayMs: 0,
        priority: 0,
        attempts: handler.attempts ?? this.options.attempts,
        backoff: handler.backoff ?? this.options.backoff,
        dedupKey: undefined,
        group: undefined,
        trace: undefined,
      };
    }
    const { delayMs, priority, attempts, backoff, dedupKey, group } = resolveEnqueueOptions(name, options);
    return {
      name,
      payload: value,
      delayMs,
      priority,
      attempts: attempts ?? handler.attempts ?? this.options.attempts,
      backoff: backoff ?? handler.backoff ?? this.options.backoff,
      dedupKey,
      group,
      trace: undefined,
    };
  }
}

/** Module-level, so that enqueueMany allocates nothing for it: the path is built only when an item has a bad key. */
const enqueueManyItemPath = (index: number) => `enqueueMany(items)[${index}]`;
