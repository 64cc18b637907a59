import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/** Each selectable node in turn, starting at a random offset so many clients do not all hit node 0 first. @publicApi */
@Injectable()
export class RoundRobinStrategy extends LoadBalancingStrategy {
  private cursor = -1;

  pick(): UpstreamNode | undefined {
    const nodes = this.nodes;
    let i = this.cursor + 1;
    if (i >= nodes.length) {
      if (nodes.length === 0) return undefined;
      i = 0;
    }
    this.cursor = i;
    return nodes[i];
  }

  protected override onUpdate(): void {
    const n = this.nodes.length;
    if (this.cursor < 0 && n > 0) this.cursor = Math.floor(this.random() * n) - 1;
    else if (this.cursor >= n) this.cursor = -1;
  }
}
