import { DUPLICATE_TASK_HANDLER } from '../task-queue.messages.js';

/** @publicApi Boot error: two `@TaskHandler` methods declare the same task name. */
export class DuplicateTaskHandlerError extends Error {
  override readonly name = 'DuplicateTaskHandlerError';

  constructor(taskName: string, first: string, second: string) {
    super(DUPLICATE_TASK_HANDLER(taskName, first, second));
  }
}
