/** The upstream answered 5xx on every try, or no node could take the request. */
export class UpstreamUnavailableError extends Error {
  override readonly name = 'UpstreamUnavailableError';
}
