import type { TaskBackoffOptions } from './task-backoff-options.interface.js';

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
}
