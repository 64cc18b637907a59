import { TASK_TIMEOUT } from '../task-queue.messages.js';

/**
 * @publicApi The attempt ran longer than the handler's `timeoutMs`. It is the reason of the attempt's
 * `context.signal` and counts as a failed (retryable) attempt.
 */
export class TaskTimeoutError extends Error {
  override readonly name = 'TaskTimeoutError';

  constructor(taskName: string, timeoutMs: number) {
    super(TASK_TIMEOUT(taskName, timeoutMs));
  }
}
