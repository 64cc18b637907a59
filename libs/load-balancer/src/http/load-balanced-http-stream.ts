import type { Readable } from 'node:stream';

/**
 * A response from `LoadBalancedHttpClient.stream()`: status and headers, and the body as a stream the caller reads
 * (no `maxResponseBytes` cap). Consume or `destroy()` the body, or the connection stays busy. @publicApi
 */
export class LoadBalancedHttpStream {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Readable,
    /** The node that answered. */
    readonly nodeId: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }
}
