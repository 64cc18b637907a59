import type { TaskBackoffOptions } from '../interfaces/task-backoff-options.interface.js';
import type { TaskInfo } from '../interfaces/task-info.interface.js';
import type { TaskQueueStats } from '../interfaces/task-queue-stats.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { TaskEvents } from '../task-events.js';
import type { TraceCarrier } from '../telemetry/task-spans.js';
import type { ResolvedSchedule } from '../task-queue.options.js';
import type { RegisteredTaskHandler } from '../task-runner.js';

/** @internal A task ready for the driver: payload already validated and copied, every option resolved. */
export interface NewTask {
  name: string;
  payload: unknown;
  delayMs: number;
  /** 0 = no priority. */
  priority: number;
  attempts: number;
  backoff: Required<TaskBackoffOptions>;
  dedupKey: string | undefined;
  /** Fair sharing group; the driver turns it into a round-robin priority. */
  group: string | undefined;
  /** The enqueue's PRODUCER span context, when tracing: the driver stores it with the task. */
  trace: TraceCarrier | undefined;
}

/** @internal An `@ScheduledTask`: its schedule and the task each occurrence enqueues. */
export interface ScheduledNewTask {
  name: string;
  schedule: ResolvedSchedule;
  task: NewTask;
}

/**
 * @internal What `TaskQueue` needs from a queue backend. Both implementations pass the same conformance suite
 * (`drivers/driver.conformance.ts`), so `TaskQueue`'s behaviour does not depend on which one is configured.
 */
export abstract class TaskQueueDriver {
  abstract readonly kind: 'memory' | 'bullmq';
  /** The queue's event listeners; the driver emits what happens to tasks on this instance. */
  abstract readonly events: TaskEvents;

  /** Starts running `handlers` (only on instances with `workers: true`). */
  abstract start(handlers: ReadonlyMap<string, RegisteredTaskHandler>): Promise<void>;

  /**
   * Makes the queue's schedules exactly `schedules` (idempotent: every instance calls it at boot with the same
   * list, and one schedule results; a schedule no longer in the list is removed).
   */
  abstract schedule(schedules: readonly ScheduledNewTask[]): Promise<void>;

  /** Adds tasks, all in one round trip; the result is in input order. */
  abstract enqueue(tasks: readonly NewTask[]): Promise<TaskRef[]>;

  /**
   * `enqueueOne`'s work done synchronously, for a driver that stores in process (the telemetry then times it without
   * a promise reaction per task); undefined when adding needs I/O.
   */
  readonly addOne?: (task: NewTask) => TaskRef;

  /** Adds one task (drivers may override it with a cheaper path). */
  async enqueueOne(task: NewTask): Promise<TaskRef> {
    const [ref] = await this.enqueue([task]);
    return ref;
  }

  abstract getTask(id: string): Promise<TaskInfo | undefined>;

  /** Dead tasks, most recent first. */
  abstract listDead(offset: number, limit: number): Promise<TaskInfo[]>;

  /** Moves dead tasks back to waiting with a fresh attempts budget; returns how many moved. */
  abstract retryDead(ids: readonly string[] | 'all'): Promise<number>;

  abstract stats(): Promise<Omit<TaskQueueStats, 'processed' | 'failedAttempts' | 'durations'>>;

  /** When the task that has waited longest became ready to run (epoch ms), or undefined when none waits. */
  abstract oldestWaitingAt(): Promise<number | undefined>;

  /** Resolves when nothing is waiting, delayed or running. */
  abstract waitUntilIdle(timeoutMs?: number): Promise<void>;

  /** Stops taking tasks, lets running ones finish until `deadlineMs`, then aborts the rest. */
  abstract drain(deadlineMs: number): Promise<void>;

  /** Releases timers and connections. */
  abstract close(): Promise<void>;
}
