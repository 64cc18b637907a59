import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';

/** Largest `period × nodes` for which the smooth sequence is precomputed (a few ms of work, off the hot path). */
const TABLE_BUDGET = 4_000_000;

/**
 * NGINX's smooth weighted round robin: weights 5:1:1 give `a a b a c a a`, never a burst of `a`s.
 * When weights are integers (after dividing by their gcd) and the period is small enough, the whole sequence is
 * precomputed on `update`, so `pick` is O(1); otherwise it runs NGINX's O(n) step. Weight-0 nodes are never picked
 * unless every node has weight 0 (then all count equally).
 * @publicApi
 */
@Injectable()
export class WeightedRoundRobinStrategy extends LoadBalancingStrategy {
  private candidates: UpstreamNode[] = [];
  private weights = new Float64Array(0);
  private current = new Float64Array(0);
  private total = 0;
  private table: Uint32Array | undefined;
  private position = 0;

  pick(): UpstreamNode | undefined {
    const table = this.table;
    if (table !== undefined) {
      const i = this.position;
      this.position = i + 1 === table.length ? 0 : i + 1;
      return this.candidates[table[i]];
    }
    if (this.candidates.length === 0) return undefined;
    return this.candidates[this.step()];
  }

  protected override onUpdate(): void {
    const positive = this.nodes.filter((node) => node.weight > 0);
    this.candidates = positive.length > 0 ? positive : [...this.nodes];
    const n = this.candidates.length;
    this.weights = Float64Array.from(this.candidates, (node) => (positive.length > 0 ? node.weight : 1));
    this.current = new Float64Array(n);
    this.total = this.weights.reduce((sum, w) => sum + w, 0);
    this.table = undefined;
    this.position = 0;
    if (n === 0 || !this.weights.every(Number.isInteger)) return;
    const divisor = this.weights.reduce(gcd);
    for (let i = 0; i < n; i++) this.weights[i] /= divisor;
    this.total /= divisor;
    if (this.total * n > TABLE_BUDGET) return;
    const table = new Uint32Array(this.total);
    for (let t = 0; t < table.length; t++) table[t] = this.step();
    this.current.fill(0);
    this.table = table;
  }

  /** One NGINX SWRR step: every node gains its weight, the richest wins and pays the total. */
  private step(): number {
    const weights = this.weights;
    const current = this.current;
    let best = 0;
    let bestValue = Number.NEGATIVE_INFINITY;
    for (let i = 0; i < weights.length; i++) {
      const value = (current[i] += weights[i]);
      if (value > bestValue) {
        bestValue = value;
        best = i;
      }
    }
    current[best] -= this.total;
    return best;
  }
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}
