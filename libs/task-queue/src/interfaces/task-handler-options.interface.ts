import type { TaskBackoffOptions } from './task-backoff-options.interface.js';
import type { TaskContext } from './task-context.interface.js';

/** @publicApi Options of `@TaskHandler(name, options)`; each overrides the module-wide default. */
export interface TaskHandlerOptions {
  /**
   * The queue this handler runs on: a `TaskQueueModule.registerQueue({ name })` (default: the `forRoot` queue).
   * The task can only be enqueued through that queue.
   */
  queue?: string;
  /** Most runs of this handler at once on this instance (default: only the instance's `concurrency` limits it). */
  concurrency?: number;
  /** Runs per task, the first included (`attempts: 3` → at most 3 calls). */
  attempts?: number;
  backoff?: TaskBackoffOptions;
  /** Per-attempt time limit; when it passes, `context.signal` aborts and the attempt fails (and may be retried). */
  timeoutMs?: number;
  /**
   * Makes this a batch handler: it is called with an array of up to `maxSize` tasks (each with `payload`, `id`,
   * `attempt`, `signal`, `progress`, `log`), once `maxSize` are there or `maxWaitMs` after the first arrived. It
   * returns nothing (all succeeded), or an array aligned with its input where an `Error` fails that task alone
   * (only those are retried) and any other value is that task's result; a throw fails them all. `concurrency`
   * then counts batches. `maxSize` must not exceed the queue's `concurrency` (each task in a batch holds a slot).
   */
  batch?: { maxSize: number; maxWaitMs: number };
  /**
   * At most `max` runs of this handler start in each window of `perMs` (fixed windows on Redis's clock, counted
   * in Redis, so shared by every worker; in process on the memory driver). A task over the limit waits, delayed,
   * until the next window, without using an attempt.
   */
  rateLimit?: { max: number; perMs: number };
}

/** @publicApi One task of a batch handler's array. */
export interface BatchTask<P = unknown> extends TaskContext {
  readonly payload: P;
}
