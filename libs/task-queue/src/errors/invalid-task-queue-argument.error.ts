/** @publicApi A `TaskQueue` method got an invalid argument (`retryDead` ids, `listDead` paging, a timeout). */
export class InvalidTaskQueueArgumentError extends Error {
  override readonly name = 'InvalidTaskQueueArgumentError';
}
