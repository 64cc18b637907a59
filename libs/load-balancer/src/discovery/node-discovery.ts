import type { NodeConfig } from '../interfaces/node-config.interface.js';

/**
 * A source of membership re-resolved at run time. The balancer resolves it at bootstrap and then every
 * `refreshIntervalMs`: new nodes are added, missing ones drained and removed. A failed refresh keeps the current nodes.
 * @publicApi
 */
export abstract class NodeDiscovery {
  /** Default 30 000 ms. */
  readonly refreshIntervalMs: number = 30_000;

  abstract resolve(): Promise<NodeConfig[]>;
}
