/** @publicApi Boot error: an option of `TaskQueueModule` or `@TaskHandler` is invalid. The message names it. */
export class InvalidTaskQueueOptionsError extends Error {
  override readonly name = 'InvalidTaskQueueOptionsError';
}
