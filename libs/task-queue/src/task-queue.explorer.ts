import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { TaskEventMetadata } from './decorators/on-task-event.decorator.js';
import type { TaskHandlerMetadata } from './decorators/task-handler.decorator.js';
import { DuplicateTaskHandlerError } from './errors/duplicate-task-handler.error.js';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { TaskContext } from './interfaces/task-context.interface.js';
import type { TaskEventListener, TaskEventName } from './interfaces/task-event.interface.js';
import { TASK_EVENT_NAMES } from './task-events.js';
import {
  RESOLVED_TASK_QUEUE_OPTIONS,
  TASK_EVENT_METADATA,
  TASK_HANDLER_METADATA,
  TASK_SCHEDULE_METADATA,
} from './task-queue.constants.js';
import {
  DUPLICATE_QUEUE,
  HANDLER_IGNORED,
  INVALID_OPTION,
  UNKNOWN_TASK_EVENT,
  UNREGISTERED_QUEUE,
} from './task-queue.messages.js';
import { onlyKeys } from './options/option-rules.js';
import {
  queueNameOption,
  resolveHandlerOptions,
  type ResolvedSchedule,
  resolveSchedule,
  type ResolvedTaskQueueOptions,
  type ScheduleMetadata,
} from './task-queue.options.js';
import { RegisteredTaskHandler } from './task-runner.js';

/** The keys of `@OnTaskEvent(event, options)`'s options. */
const ON_TASK_EVENT_OPTION_KEYS = ['queue'] as const;

/** @internal A `@TaskHandler` method found at init, with its options checked; not yet bound to a queue. */
interface DiscoveredHandler {
  name: string;
  where: string;
  /** The queue it runs on (the default queue's name when the decorator names none). */
  queue: string;
  invoke: (payload: unknown, context: TaskContext) => unknown;
  options: ReturnType<typeof resolveHandlerOptions>;
  /** Set for an `@ScheduledTask`. */
  schedule: ResolvedSchedule | undefined;
}

/** @internal An `@OnTaskEvent` method found at init. */
interface DiscoveredListener {
  event: TaskEventName;
  queue: string;
  where: string;
  listener: TaskEventListener;
}

/**
 * @internal Finds every `@TaskHandler` (and `@OnTaskEvent`) method of every provider and controller, once, and hands each queue its
 * own handlers (each queue gates concurrency on its own `RegisteredTaskHandler` objects). It also knows every
 * queue of the application, so a handler bound to a queue nobody registered fails the boot.
 */
@Injectable()
export class TaskQueueExplorer {
  private readonly logger = new Logger('TaskQueue');
  private discovered: DiscoveredHandler[] | undefined;
  private readonly listeners: DiscoveredListener[] = [];
  private readonly queues = new Set<string>();

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(RESOLVED_TASK_QUEUE_OPTIONS) private readonly root: ResolvedTaskQueueOptions,
  ) {}

  /** Called by each queue when it is created: a queue name may be registered once per application. */
  claim(queueName: string): void {
    if (this.queues.has(queueName)) throw new InvalidTaskQueueOptionsError(DUPLICATE_QUEUE(queueName));
    this.queues.add(queueName);
  }

  /** The handlers of one queue, with that queue's concurrency as the ceiling. */
  handlersOf(queue: ResolvedTaskQueueOptions): Map<string, RegisteredTaskHandler> {
    const handlers = new Map<string, RegisteredTaskHandler>();
    for (const found of this.discover()) {
      if (found.queue !== queue.queueName) continue;
      const existing = handlers.get(found.name);
      if (existing !== undefined) throw new DuplicateTaskHandlerError(found.name, existing.where, found.where);
      const { concurrency, attempts, backoff, timeoutMs, batch, rateLimit } = found.options;
      if (batch !== undefined && batch.maxSize > queue.concurrency) {
        throw new InvalidTaskQueueOptionsError(
          INVALID_OPTION(
            `@TaskHandler("${found.name}") on ${found.where}: batch.maxSize`,
            batch.maxSize,
            `at most the queue's concurrency (${queue.concurrency})`,
            'Each task in a batch holds one of the concurrency slots; raise concurrency or lower maxSize.',
          ),
        );
      }
      handlers.set(
        found.name,
        new RegisteredTaskHandler(
          found.name,
          found.where,
          found.invoke,
          Math.min(concurrency ?? Infinity, queue.concurrency),
          attempts,
          backoff,
          timeoutMs,
          batch,
          rateLimit,
        ),
      );
    }
    return handlers;
  }

  /** The `@ScheduledTask` schedules of one queue, by task name. */
  schedulesOf(queueName: string): Map<string, ResolvedSchedule> {
    const schedules = new Map<string, ResolvedSchedule>();
    for (const found of this.discover()) {
      if (found.queue === queueName && found.schedule !== undefined) schedules.set(found.name, found.schedule);
    }
    return schedules;
  }

  /** The `@OnTaskEvent` methods of one queue. */
  listenersOf(queueName: string): DiscoveredListener[] {
    this.discover();
    return this.listeners.filter((found) => found.queue === queueName);
  }

  /** The queues, other than `queueName`, with a handler for `taskName` (for the unknown-task message). */
  queuesHandling(taskName: string, queueName: string): string[] {
    return this.discover()
      .filter((found) => found.name === taskName && found.queue !== queueName)
      .map((found) => found.queue);
  }

  /** Fails when a handler names a queue that no `forRoot` / `registerQueue` created (run once all exist). */
  checkQueuesExist(): void {
    for (const found of this.discover()) {
      if (!this.queues.has(found.queue)) {
        throw new InvalidTaskQueueOptionsError(
          UNREGISTERED_QUEUE(found.where, `@TaskHandler("${found.name}")`, found.queue, [...this.queues]),
        );
      }
    }
    for (const found of this.listeners) {
      if (!this.queues.has(found.queue)) {
        throw new InvalidTaskQueueOptionsError(
          UNREGISTERED_QUEUE(found.where, `@OnTaskEvent("${found.event}")`, found.queue, [...this.queues]),
        );
      }
    }
  }

  private discover(): DiscoveredHandler[] {
    if (this.discovered !== undefined) return this.discovered;
    const discovered: DiscoveredHandler[] = [];
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (prototype === null) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const where = `${prototype.constructor.name}.${methodName}`;
        const events = this.reflector.get<TaskEventMetadata[] | undefined>(TASK_EVENT_METADATA, method);
        const meta = this.reflector.get<TaskHandlerMetadata | undefined>(TASK_HANDLER_METADATA, method);
        if (meta === undefined && events === undefined) continue;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(
            HANDLER_IGNORED(where, 'request-scoped (or transient) providers cannot run tasks; make it a singleton'),
          );
          continue;
        }
        if (events !== undefined) {
          const listener = method.bind(instance) as TaskEventListener;
          for (const event of events) this.listeners.push(this.checkListener(event, where, listener));
        }
        if (meta === undefined) continue;
        const schedule = this.reflector.get<ScheduleMetadata | undefined>(TASK_SCHEDULE_METADATA, method);
        discovered.push(this.check(meta, where, method.bind(instance) as DiscoveredHandler['invoke'], schedule));
      }
    }
    return (this.discovered = discovered);
  }

  private checkListener(meta: TaskEventMetadata, where: string, listener: TaskEventListener): DiscoveredListener {
    const at = `@OnTaskEvent on ${where}`;
    if (!TASK_EVENT_NAMES.includes(meta.event)) {
      throw new InvalidTaskQueueOptionsError(UNKNOWN_TASK_EVENT(`${at}: event`, meta.event, TASK_EVENT_NAMES));
    }
    if (meta.given !== null && typeof meta.given === 'object') {
      onlyKeys(`${at}: options`, meta.given, ON_TASK_EVENT_OPTION_KEYS);
    }
    if (meta.queue !== undefined) queueNameOption(`${at}: queue`, meta.queue);
    return { event: meta.event, queue: meta.queue ?? this.root.queueName, where, listener };
  }

  private check(
    meta: TaskHandlerMetadata,
    where: string,
    invoke: DiscoveredHandler['invoke'],
    schedule: ScheduleMetadata | undefined,
  ): DiscoveredHandler {
    if (typeof meta.name !== 'string' || meta.name.length === 0) {
      throw new InvalidTaskQueueOptionsError(
        INVALID_OPTION(`@TaskHandler name on ${where}`, meta.name, 'a non-empty string', 'Name the task.'),
      );
    }
    const at = `@TaskHandler("${meta.name}") on ${where}`;
    // The schedule first: its check knows every @ScheduledTask key, so a misspelled `everyMs` is named as such.
    const resolved =
      schedule === undefined ? undefined : resolveSchedule(`@ScheduledTask("${meta.name}") on ${where}`, schedule);
    const options = resolveHandlerOptions(at, meta.options);
    return {
      name: meta.name,
      where,
      queue: options.queue ?? this.root.queueName,
      invoke,
      options,
      schedule: resolved,
    };
  }
}
