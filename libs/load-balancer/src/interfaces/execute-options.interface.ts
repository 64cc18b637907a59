/** Options of one `execute` call. @publicApi */
export interface ExecuteOptions {
  /** Routing key (consistent-hash strategy); other strategies ignore it. */
  key?: string;
  /** Further tries after the first, each on a node not yet tried when one is available. Default: balancer `retries`. */
  retries?: number;
  /** Per-try timeout: the try's AbortSignal fires and the try fails with `TryTimeoutError`. Default: balancer `timeoutMs`. */
  timeoutMs?: number;
  /** Caller cancellation: aborts the current try and stops retrying. Not counted against the node's health. */
  signal?: AbortSignal;
  /** Decides whether an error may be retried on another node. Default: every error except a caller abort. */
  retryOn?: (error: unknown) => boolean;
}

/** What `report` records for a request made after a plain `pick()`. @publicApi */
export interface ReportOutcome {
  /** A finite number of ms from 0 to 2147483647. */
  latencyMs: number;
  /** `true` or the error (an object) when the request failed; `false`, `null` or absent when it succeeded. */
  error?: unknown;
}
