/** Latency and failure injection, so the balancer has something real to balance. */
export interface FaultSettings {
  latencyMs: number;
  jitterMs: number;
  /** Share of requests answered with 503, in [0, 1]. */
  failureRate: number;
  /** Only requests whose path starts with this get the faults ('' for all): e.g. '/inventory' slows reservations only. */
  pathPrefix: string;
}

export const NO_FAULTS: FaultSettings = { latencyMs: 0, jitterMs: 0, failureRate: 0, pathPrefix: '' };
