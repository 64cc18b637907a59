import type { HedgeOptions } from './execute-options.interface.js';

/** Options of one `LoadBalancedHttpClient.request`. @publicApi */
export interface LoadBalancedRequestOptions {
  /** Default `GET`. */
  method?: string;
  headers?: Record<string, string>;
  /** A string or bytes are sent as is; any other value is sent as JSON with `content-type: application/json`. */
  body?: unknown;
  /** Appended to the path as a query string. */
  query?: Record<string, string | number | boolean>;
  /** Routing key for the consistent-hash strategy. */
  key?: string;
  /** Further tries on other nodes. Default: the client's `retries` for idempotent methods, else 0. */
  retries?: number;
  /** Per-try timeout in ms. */
  timeoutMs?: number;
  /** Cap on the buffered body of this request (`request()`; `stream()` ignores it but for 5xx). Default: the client's. */
  maxResponseBytes?: number;
  /** Hedged request: only for idempotent methods (GET, PUT, DELETE…) or with `idempotent: true`. See `HedgeOptions`. */
  hedge?: HedgeOptions;
  /** Bound on the whole request, all tries included, in ms. Default: the client's `deadlineMs`. */
  deadlineMs?: number;
  /** Allow retrying a non-idempotent method (POST, PATCH) after a response error, not only after a connect error. */
  idempotent?: boolean;
  signal?: AbortSignal;
}
