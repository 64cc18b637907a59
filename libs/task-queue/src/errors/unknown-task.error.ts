import { UNKNOWN_TASK } from '../task-queue.messages.js';

/** @publicApi Thrown by `enqueue` when no `@TaskHandler` has the given name. */
export class UnknownTaskError extends Error {
  override readonly name = 'UnknownTaskError';

  constructor(
    readonly taskName: string,
    known: readonly string[],
    /** The queue it was enqueued on. */
    readonly queue: string,
    /** Queues that do have a handler for it. */
    elsewhere: readonly string[] = [],
  ) {
    super(UNKNOWN_TASK(taskName, known, queue, elsewhere));
  }
}
