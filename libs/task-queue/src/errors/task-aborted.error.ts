import { TASK_ABORTED_AT_SHUTDOWN } from '../task-queue.messages.js';

/**
 * @publicApi Reason of `context.signal` when the application shuts down and the task did not finish within
 * `shutdownDeadlineMs`. With BullMQ the task goes back to the queue without using up an attempt.
 */
export class TaskAbortedError extends Error {
  override readonly name = 'TaskAbortedError';

  constructor(taskName: string, deadlineMs: number) {
    super(TASK_ABORTED_AT_SHUTDOWN(taskName, deadlineMs));
  }
}
