/**
 * Hedged requests: while a try is slow, send the same call to another node; the first success wins and the other
 * tries are aborted. Give `delayMs` or `percentile`. @publicApi
 */
export interface HedgeOptions {
  /** Send a hedge once the running try has taken this long (an integer from 0 to 2147483647 ms). */
  delayMs?: number;
  /**
   * Or send it once the running try has taken longer than this percentile (a number from 1 to 99.9) of the
   * balancer's last 512 successful latencies, all nodes together. No hedge while it has fewer than 8 of them.
   */
  percentile?: number;
  /** Hedges per call (each on a node without a try of this call). Default 1. */
  maxExtra?: number;
  /**
   * Share of extra load hedges may add, balancer-wide: each hedged call earns this share of a token and each hedge
   * spends one (banking at most one per hedged call running, and at least 10). A number from 0 to 1; default 0.1 (at
   * most ~10 % more requests).
   */
  budget?: number;
  /**
   * Also hedge a try at once, before its delay, when its node has gone silent: tries are running on it and it has
   * answered none of them for 4 × (its latency ÷ tries running), as during a GC pause; the latency is the node's
   * estimate or the balancer's median, whichever is higher. Paid from the same budget. Default true.
   */
  onSilence?: boolean;
}

/** Options of one `execute` call. @publicApi */
export interface ExecuteOptions {
  /** Routing key (consistent-hash strategy); other strategies ignore it. */
  key?: string;
  /** Further tries after the first, each on a node not yet tried when one is available. Default: balancer `retries`. */
  retries?: number;
  /** Per-try timeout: the try's AbortSignal fires and the try fails with `TryTimeoutError`. Default: balancer `timeoutMs`. */
  timeoutMs?: number;
  /**
   * Bound on the whole call, all tries, retries and hedges included: each try gets `min(timeoutMs, time left)`, a
   * retry starts only when the time left covers the next node's latency estimate, and at the deadline `fn`'s signal
   * aborts and the call rejects with `DeadlineExceededError`. Default: balancer `deadlineMs` (none).
   */
  deadlineMs?: number;
  /** Caller cancellation: aborts the current try and stops retrying. Not counted against the node's health. */
  signal?: AbortSignal;
  /** Decides whether an error may be retried on another node. Default: every error except a caller abort. */
  retryOn?: (error: unknown) => boolean;
  /** Marks the call safe to send more than once at the same time; required by `hedge`. */
  idempotent?: boolean;
  /** Hedged requests for an idempotent call; default none. */
  hedge?: HedgeOptions;
}

/** What `report` records for a request made after a plain `pick()`. @publicApi */
export interface ReportOutcome {
  /** A finite number of ms from 0 to 2147483647. */
  latencyMs: number;
  /** `true` or the error (an object) when the request failed; `false`, `null` or absent when it succeeded. */
  error?: unknown;
}
