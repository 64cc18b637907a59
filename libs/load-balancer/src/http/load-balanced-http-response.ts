/** A fully read HTTP response from one node. @publicApi */
export class LoadBalancedHttpResponse {
  constructor(
    readonly status: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: Buffer,
    /** The node that answered. */
    readonly nodeId: string,
  ) {}

  get ok(): boolean {
    return this.status >= 200 && this.status < 300;
  }

  text(): string {
    return this.body.toString('utf8');
  }

  json<T = unknown>(): T {
    return JSON.parse(this.text()) as T;
  }
}
