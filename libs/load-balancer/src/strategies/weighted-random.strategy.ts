import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/** Draws rejected for a low health score before the last draw is taken as is. */
const MAX_DRAWS = 4;

/**
 * Random, in proportion to weight × health score (the seed's idea). Weights are static, so the cumulative table is
 * built on `update` and a draw is a binary search; the health score, which changes on every response, is applied by
 * accepting a drawn node with probability equal to its score, so no rebuild is needed when health moves.
 * @publicApi
 */
@Injectable()
export class WeightedRandomStrategy extends LoadBalancingStrategy {
  private candidates: UpstreamNode[] = [];
  private cumulative = new Float64Array(0);
  private total = 0;

  pick(): UpstreamNode | undefined {
    const n = this.candidates.length;
    if (n === 0) return undefined;
    let node = this.candidates[0];
    for (let draw = 0; draw < MAX_DRAWS; draw++) {
      node = this.candidates[this.search(this.random() * this.total)];
      const score = node.healthScore;
      if (score >= 1 || this.random() < score) return node;
    }
    return node;
  }

  protected override onUpdate(): void {
    const positive = this.nodes.filter((node) => node.weight > 0);
    this.candidates = positive.length > 0 ? positive : [...this.nodes];
    this.cumulative = new Float64Array(this.candidates.length);
    let sum = 0;
    this.candidates.forEach((node, i) => {
      sum += positive.length > 0 ? node.weight : 1;
      this.cumulative[i] = sum;
    });
    this.total = sum;
  }

  /** First index whose cumulative weight exceeds `target`. */
  private search(target: number): number {
    const cumulative = this.cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid] > target) hi = mid;
      else lo = mid + 1;
    }
    return lo;
  }
}
