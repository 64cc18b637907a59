import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/**
 * The node with the fewest requests in flight right now (not the most requests ever, as the seed did).
 * Nodes sit in buckets indexed by their in-flight count and the lowest non-empty bucket is tracked, so a pick is O(1)
 * however many nodes there are; each start or end of a request moves one node between adjacent buckets in O(1).
 * Ties are served in rotation, so equally loaded nodes share traffic evenly.
 * @publicApi
 */
@Injectable()
export class LeastConnectionsStrategy extends LoadBalancingStrategy {
  private buckets: UpstreamNode[][] = [];
  /** Position of each selectable node inside its bucket. */
  private position = new Map<UpstreamNode, number>();
  private lowest = 0;
  private turn = 0;

  pick(): UpstreamNode | undefined {
    const bucket = this.buckets[this.lowest];
    if (bucket === undefined || bucket.length === 0) return undefined;
    const i = this.turn + 1 >= bucket.length ? 0 : this.turn + 1;
    this.turn = i;
    return bucket[i];
  }

  override pickExcluding(_key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    let best: UpstreamNode | undefined;
    for (const node of this.nodes) {
      if (!excluded.has(node) && (best === undefined || node.inFlight < best.inFlight)) best = node;
    }
    return best ?? this.pick();
  }

  override inFlightChanged(node: UpstreamNode, previous: number): void {
    const at = this.position.get(node);
    if (at === undefined) return;
    const from = this.buckets[previous];
    // Swap-remove from the old bucket.
    const last = from.pop()!;
    if (last !== node) {
      from[at] = last;
      this.position.set(last, at);
    }
    const count = node.inFlight;
    const to = (this.buckets[count] ??= []);
    this.position.set(node, to.length);
    to.push(node);
    if (count < this.lowest) this.lowest = count;
    else if (previous === this.lowest && from.length === 0) this.lowest = count;
  }

  protected override onUpdate(): void {
    this.buckets = [];
    this.position = new Map();
    this.lowest = Number.POSITIVE_INFINITY;
    for (const node of this.nodes) {
      const bucket = (this.buckets[node.inFlight] ??= []);
      this.position.set(node, bucket.length);
      bucket.push(node);
      this.lowest = Math.min(this.lowest, node.inFlight);
    }
    if (this.nodes.length === 0) this.lowest = 0;
  }
}
