/** @publicApi Where a task is in its life. `delayed` includes a task waiting for its next retry. */
export type TaskState = 'waiting' | 'delayed' | 'active' | 'completed' | 'failed';

/** @publicApi The last error of a task. */
export interface TaskErrorInfo {
  name: string;
  message: string;
  stack?: string;
}

/** @publicApi A task as returned by `getTask` and `listDead`. */
export interface TaskInfo {
  id: string;
  name: string;
  state: TaskState;
  payload: unknown;
  /** Runs that have finished, failed or not (a task that succeeded at its first run has 1; as in BullMQ). */
  attemptsMade: number;
  /** The attempts budget of the task. */
  maxAttempts: number;
  /** The handler's return value, once completed. */
  result?: unknown;
  /** The last error, when an attempt failed. */
  error?: TaskErrorInfo;
  createdAt: number;
  finishedAt?: number;
  /**
   * BullMQ: set when the stored job cannot be parsed (written by another program or version, or corrupted), and
   * says why. `payload` is then the stored text as it is, and the task fails without running.
   */
  unreadable?: string;
  /** The last value given to `context.progress` (absent before a report, and while it is 0). */
  progress?: number | object;
  /** The lines given to `context.log`, oldest first: the last 100 (absent when there are none). */
  logs?: string[];
}
