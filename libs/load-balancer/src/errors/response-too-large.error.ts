import { RESPONSE_TOO_LARGE } from '../load-balancer.messages.js';

/**
 * A response body was larger than `maxResponseBytes`. The node answered, so this is not counted against it and not
 * retried; the rest of the body is discarded. @publicApi
 */
export class ResponseTooLargeError extends Error {
  override readonly name = 'ResponseTooLargeError';

  constructor(
    readonly nodeId: string,
    readonly maxResponseBytes: number,
    readonly status: number,
    method: string,
    path: string,
  ) {
    super(RESPONSE_TOO_LARGE(nodeId, maxResponseBytes, status, method, path));
  }
}
