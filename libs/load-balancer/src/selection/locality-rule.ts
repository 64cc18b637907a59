import type { LocalityOptions } from '../interfaces/load-balancer-options.interface.js';
import type { UpstreamNode } from '../node/upstream-node.js';

/**
 * Zone-aware routing, after Envoy's: the local zone serves alone while it has enough healthy capacity, else traffic
 * spills over to the healthy nodes of every zone (the local ones included). "Enough" is both at least
 * `minHealthyShare` of the local members healthy and at least `minHealthyNodes` of them. Evaluated on state changes
 * only, so picks pay nothing for it. Nodes without a `zone` belong to no zone: they serve only on spill-over.
 */
export class LocalityRule {
  readonly zone: string;
  private readonly minHealthyShare: number;
  private readonly minHealthyNodes: number;
  private spilling = false;

  constructor(options: LocalityOptions) {
    this.zone = options.zone;
    this.minHealthyShare = options.minHealthyShare ?? 0.7;
    this.minHealthyNodes = options.minHealthyNodes ?? 1;
  }

  /** Whether the last selection spilled over to other zones. */
  get spilledOver(): boolean {
    return this.spilling;
  }

  select(members: readonly UpstreamNode[], healthy: readonly UpstreamNode[]): readonly UpstreamNode[] {
    let local = 0;
    for (const node of members) if (node.zone === this.zone) local++;
    const localHealthy = healthy.filter((node) => node.zone === this.zone);
    this.spilling =
      localHealthy.length === 0 ||
      localHealthy.length < this.minHealthyNodes ||
      localHealthy.length < this.minHealthyShare * local;
    return this.spilling ? healthy : localHealthy;
  }
}
