import type { LoadBalancedHttpResponse } from '../http/load-balanced-http-response.js';
import { UPSTREAM_STATUS } from '../load-balancer.messages.js';

/**
 * A 5xx answer, thrown inside the balanced try so it counts against the node and may be retried elsewhere.
 * `LoadBalancedHttpClient.request` resolves with the last 5xx response when retries run out; it does not throw this.
 * @publicApi
 */
export class UpstreamStatusError extends Error {
  override readonly name = 'UpstreamStatusError';

  constructor(
    readonly response: LoadBalancedHttpResponse,
    method: string,
    path: string,
  ) {
    super(UPSTREAM_STATUS(response.nodeId, response.status, method, path));
  }
}
