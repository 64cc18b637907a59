import { TRY_TIMED_OUT } from '../load-balancer.messages.js';

/** One try of `execute` took longer than its `timeoutMs`; counted as a node failure. @publicApi */
export class TryTimeoutError extends Error {
  override readonly name = 'TryTimeoutError';

  constructor(
    readonly nodeId: string,
    readonly timeoutMs: number,
  ) {
    super(TRY_TIMED_OUT(nodeId, timeoutMs));
  }
}
