/** One upstream node as configured. @publicApi */
export interface NodeConfig {
  /** Kept exactly as given; defaults to `host:port`. */
  id?: string;
  host: string;
  port: number;
  /** Relative share for weighted strategies; a non-negative finite number, default 1. */
  weight?: number;
  /** Availability zone (or rack, region): with the balancer's `locality` option, the local zone is preferred. */
  zone?: string;
  /** Free-form data carried on the node (zone, version...). */
  metadata?: Record<string, unknown>;
}
