import { DEADLINE_EXCEEDED } from '../load-balancer.messages.js';

/**
 * The whole call (every try, retry and hedge) ran past its `deadlineMs`. `fn`'s signal aborts with this error and
 * `execute` rejects with it at the deadline, whatever `fn` does. @publicApi
 */
export class DeadlineExceededError extends Error {
  override readonly name = 'DeadlineExceededError';

  constructor(
    readonly balancer: string,
    readonly deadlineMs: number,
    /** Tries started before the deadline (hedges included). */
    readonly tries: number,
  ) {
    super(DEADLINE_EXCEEDED(balancer, deadlineMs, tries));
  }
}
