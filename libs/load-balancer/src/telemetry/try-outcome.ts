import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import { TryTimeoutError } from '../errors/try-timeout.error.js';

/** Whether a failed try ended at its own timeout or at the call's deadline (`outcome="timeout"` in metrics). */
export function isTimeout(error: unknown): boolean {
  return error instanceof TryTimeoutError || error instanceof DeadlineExceededError;
}
