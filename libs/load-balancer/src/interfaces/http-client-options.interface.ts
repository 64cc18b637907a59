/** Options of the `LoadBalancedHttpClient` bound to a balancer. @publicApi */
export interface LoadBalancedHttpClientOptions {
  /** `http` (default) or `https`. */
  protocol?: 'http' | 'https';
  /** Connections per node (undici Pool). Default 64. */
  connections?: number;
  /** Default per-try timeout in ms. Default: the balancer's `timeoutMs`, else 10 000. */
  timeoutMs?: number;
  /**
   * Largest response body `request()` buffers, in bytes (an integer from 1 to 2147483647). A larger one rejects with
   * `ResponseTooLargeError` (not counted against the node, not retried). Default 4194304 (4 MiB).
   */
  maxResponseBytes?: number;
  /**
   * Response header in which upstreams report their utilization, a number from 0 to 1 (e.g. `x-upstream-utilization:
   * 0.83`); each value goes to `balancer.reportLoad()`, so p2c-ewma steers away from busy nodes. Values that are not a
   * number from 0 to 1 are ignored. Default: none (off).
   */
  loadReportHeader?: string;
  /** Default bound on a whole request, all tries included, in ms. Default: the balancer's `deadlineMs` (none). */
  deadlineMs?: number;
  /**
   * Header that tells the upstream how many ms are left of the request's deadline (an integer >= 1, computed when
   * each try starts); sent only when the request has a deadline. `false` turns it off. Default `x-request-deadline-ms`.
   */
  deadlineHeader?: string | false;
  /** Default retries for idempotent methods. Default: the balancer's `retries`. */
  retries?: number;
  /** Headers sent with every request. */
  headers?: Record<string, string>;
  /** undici connect timeout in ms. Default 5 000. */
  connectTimeoutMs?: number;
}
