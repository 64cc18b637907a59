import { ENQUEUE_FAILED } from '../task-queue.messages.js';

/**
 * @publicApi The queue backend (Redis) did not accept the task. The task may or may not have been stored:
 * enqueue again with the same `dedupKey` to make the retry safe.
 */
export class TaskEnqueueError extends Error {
  override readonly name = 'TaskEnqueueError';

  constructor(taskNames: readonly string[], cause: unknown) {
    super(ENQUEUE_FAILED(taskNames, cause), { cause });
  }
}
