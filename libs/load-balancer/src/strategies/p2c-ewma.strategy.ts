import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/** Load of a node that has requests in flight but no latency sample yet (Finagle's penalty). */
const UNKNOWN_LATENCY_PENALTY = 1e9;

/**
 * Power of two distinct choices over peak-EWMA load (Finagle / Linkerd): draw two different nodes at random and take
 * the one with the lower `latency × (inFlight + 1) × errorFactor`, where latency is the peak EWMA decayed to now.
 * A slow node's estimate jumps to its slow responses at once and only decays back slowly, so traffic leaves it fast
 * and returns gradually. O(1) per pick; a full scan when there are at most 3 nodes.
 * @publicApi
 */
@Injectable()
export class P2cEwmaStrategy extends LoadBalancingStrategy {
  pick(): UpstreamNode | undefined {
    const nodes = this.nodes;
    const n = nodes.length;
    if (n <= 3) return n === 0 ? undefined : n === 1 ? nodes[0] : this.scan(undefined);
    // One draw gives both indexes: the fraction left after choosing i is itself uniform.
    const r = this.random() * n;
    const i = Math.floor(r);
    let j = Math.floor((r - i) * (n - 1));
    if (j >= i) j++;
    const a = nodes[i];
    const b = nodes[j];
    if (a.cost === 0 || b.cost === 0) return this.load(b, this.clock.now()) < this.load(a, this.clock.now()) ? b : a;
    // Both estimates decay by exp(-(now - stamp) / τ): comparing them needs only the stamps' difference, so the hot
    // path reads no clock and computes one exp.
    const loadA = a.cost * (a.inFlight + 1) * a.errorFactor;
    const loadB =
      b.cost * (b.inFlight + 1) * b.errorFactor * Math.exp((b.costStamp - a.costStamp) / this.latencyDecayMs);
    return loadB < loadA ? b : a;
  }

  override pickExcluding(_key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    return this.scan(excluded) ?? this.pick();
  }

  /** The load figure p2c compares; exposed for snapshots and tests. */
  load(node: UpstreamNode, now: number): number {
    const latency = node.cost * Math.exp((node.costStamp - now) / this.latencyDecayMs);
    if (latency === 0 && node.inFlight > 0) return UNKNOWN_LATENCY_PENALTY + node.inFlight;
    return latency * (node.inFlight + 1) * node.errorFactor;
  }

  private scan(excluded: ReadonlySet<UpstreamNode> | undefined): UpstreamNode | undefined {
    const now = this.clock.now();
    let best: UpstreamNode | undefined;
    let bestLoad = Number.POSITIVE_INFINITY;
    for (const node of this.nodes) {
      if (excluded?.has(node)) continue;
      const load = this.load(node, now);
      // Random tie-break so equal idle nodes share traffic.
      if (load < bestLoad || (load === bestLoad && this.random() < 0.5)) {
        best = node;
        bestLoad = load;
      }
    }
    return best;
  }
}
