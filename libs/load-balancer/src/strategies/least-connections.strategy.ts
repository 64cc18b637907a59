import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/**
 * The node with the fewest requests in flight right now (not the most requests ever, as the seed did).
 * Ties go to the first node found from a start offset that rotates on every pick, so equal nodes share traffic evenly.
 * @publicApi
 */
@Injectable()
export class LeastConnectionsStrategy extends LoadBalancingStrategy {
  private start = 0;

  pick(): UpstreamNode | undefined {
    const nodes = this.nodes;
    const n = nodes.length;
    if (n === 0) return undefined;
    let s = this.start + 1;
    if (s >= n) s = 0;
    this.start = s;
    let best = nodes[s];
    let bestLoad = best.inFlight;
    if (bestLoad === 0) return best;
    for (let i = s + 1; i < n; i++) {
      const load = nodes[i].inFlight;
      if (load < bestLoad) {
        best = nodes[i];
        bestLoad = load;
        if (load === 0) return best;
      }
    }
    for (let i = 0; i < s; i++) {
      const load = nodes[i].inFlight;
      if (load < bestLoad) {
        best = nodes[i];
        bestLoad = load;
        if (load === 0) return best;
      }
    }
    return best;
  }

  override pickExcluding(_key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    let best: UpstreamNode | undefined;
    for (const node of this.nodes) {
      if (!excluded.has(node) && (best === undefined || node.inFlight < best.inFlight)) best = node;
    }
    return best ?? this.pick();
  }
}
