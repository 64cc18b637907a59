/** @publicApi Thrown by `enqueue` when an enqueue option is invalid. The message names it. */
export class InvalidEnqueueOptionsError extends Error {
  override readonly name = 'InvalidEnqueueOptionsError';
}
