import type { NodeConfig } from '../interfaces/node-config.interface.js';
import { NodeDiscovery } from './node-discovery.js';

/** A fixed list, for symmetry with dynamic sources and for tests. @publicApi */
export class StaticDiscovery extends NodeDiscovery {
  constructor(private readonly list: NodeConfig[]) {
    super();
  }

  async resolve(): Promise<NodeConfig[]> {
    return this.list;
  }
}
