import { ENQUEUE_AFTER_SHUTDOWN, ENQUEUE_FAILED } from '../task-queue.messages.js';

/**
 * @publicApi The queue did not accept the task: the backend (Redis) did not answer, or the queue is shut down.
 * When Redis failed, the task may or may not have been stored: enqueue again with the same `dedupKey` to make the
 * retry safe. After shutdown nothing was stored.
 */
export class TaskEnqueueError extends Error {
  override readonly name = 'TaskEnqueueError';

  constructor(taskNames: readonly string[], cause: unknown, reason: 'unreachable' | 'shut-down' = 'unreachable') {
    super(
      reason === 'shut-down' ? ENQUEUE_AFTER_SHUTDOWN(taskNames) : ENQUEUE_FAILED(taskNames, cause),
      cause === undefined ? undefined : { cause },
    );
  }
}
