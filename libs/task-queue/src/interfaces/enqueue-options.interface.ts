import type { TaskBackoffOptions } from './task-backoff-options.interface.js';

/** @publicApi Options of one `enqueue`. */
export interface EnqueueOptions {
  /** Run no earlier than this many milliseconds from now (an integer, at most 365 days). */
  delayMs?: number;
  /**
   * 1 (first) to 2,097,151 (last), as in BullMQ. Tasks without a priority run before prioritized ones; among
   * equal priorities, first in first out.
   */
  priority?: number;
  /** Runs of this task, the first included; overrides the handler's and the module's `attempts`. */
  attempts?: number;
  backoff?: TaskBackoffOptions;
  /**
   * Idempotency key (any string). While a task with this key was enqueued within the dedup window (whether it is
   * waiting, running, completed or dead), enqueueing again runs nothing new and returns the original task.
   */
  dedupKey?: string;
  /**
   * Fair sharing key (a tenant id, say): waiting tasks of different groups are served round-robin, so one noisy
   * group cannot starve the others. Grouped tasks take the priority slot (`priority` cannot be given with it) and
   * run after tasks without group or priority.
   */
  group?: string;
}

/** @publicApi One item of `enqueueMany`. */
export interface EnqueueManyItem<P = unknown> {
  name: string;
  payload?: P;
  options?: EnqueueOptions;
}
