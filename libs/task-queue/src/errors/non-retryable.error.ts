/**
 * @publicApi Throw it from a handler to fail the task at once: no further attempt is made and the task goes
 * straight to the dead tasks, whatever `attempts` says.
 */
export class NonRetryableError extends Error {
  override readonly name = 'NonRetryableError';

  /** True for our error and for BullMQ's `UnrecoverableError`, even across copies of this package. */
  static is(error: unknown): boolean {
    const name = (error as Error | undefined)?.name;
    return error instanceof NonRetryableError || name === 'NonRetryableError' || name === 'UnrecoverableError';
  }
}
