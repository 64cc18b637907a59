import type { TaskErrorInfo } from './task-info.interface.js';

/**
 * @publicApi A task's lifecycle events, emitted on the instance where each happened:
 * - `enqueued`: `enqueue` / `enqueueMany` stored it (on the producing instance; a dedup hit reports the original);
 * - `active`: an attempt started (on the worker running it);
 * - `progress`: the handler called `context.progress(value)`;
 * - `completed`: the attempt succeeded and its result is stored;
 * - `failed`: an attempt failed (every failed attempt), followed by `retrying` or `dead`;
 * - `retrying`: it will run again after `retryInMs`;
 * - `dead`: no attempt is left (or it was non-retryable, or aborted at shutdown on the memory driver);
 * - `stalled`: BullMQ only: a worker died or lost its lock mid-task, and the task goes back to waiting.
 */
export type TaskEventName = 'enqueued' | 'active' | 'progress' | 'completed' | 'failed' | 'retrying' | 'dead' | 'stalled';

/** @publicApi What a task event listener receives. */
export interface TaskEvent {
  event: TaskEventName;
  /** The queue's name. */
  queue: string;
  /** The task id. */
  id: string;
  /** The task name (`''` for a `stalled` task whose job was already gone). */
  name: string;
  /** The attempt (1, 2, …) for `active`, `progress`, `completed`, `failed`, `retrying` and `dead`. */
  attempt?: number;
  /** `progress`: the reported value. */
  progress?: number | object;
  /** `completed`: the handler's result. */
  result?: unknown;
  /** `failed`, `retrying`, `dead`: the attempt's error. */
  error?: TaskErrorInfo;
  /** `retrying`: how long until the next attempt. */
  retryInMs?: number;
}

/** @publicApi A listener of `TaskQueue.on` or an `@OnTaskEvent` method; what it throws or rejects is logged. */
export type TaskEventListener = (event: TaskEvent) => unknown;
