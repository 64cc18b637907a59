/** Options of the `LoadBalancedHttpClient` bound to a balancer. @publicApi */
export interface LoadBalancedHttpClientOptions {
  /** `http` (default) or `https`. */
  protocol?: 'http' | 'https';
  /** Connections per node (undici Pool). Default 64. */
  connections?: number;
  /** Default per-try timeout in ms. Default: the balancer's `timeoutMs`, else 10 000. */
  timeoutMs?: number;
  /** Default retries for idempotent methods. Default: the balancer's `retries`. */
  retries?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** undici connect timeout in ms. Default 5 000. */
  connectTimeoutMs?: number;
}
