import { ADMIT_SLOW_START, type UpstreamNode } from '../node/upstream-node.js';

/**
 * Slow start (Envoy): a node added to a serving cluster, or re-admitted after ejection, takes a share of its normal
 * traffic that ramps linearly from `minFactor` to 1 over `windowMs`. Owns `slowStartFrom`, `slowStartUntil` and the
 * slow-start admission bit; the selector applies the factor to picks.
 */
export class SlowStart {
  private readonly windowMs: number;
  private readonly minFactor: number;

  /** `false` turns slow start off. */
  constructor(options: { windowMs?: number; minFactor?: number } | false | undefined) {
    this.windowMs = options === false ? 0 : (options?.windowMs ?? 10_000);
    this.minFactor = options === false ? 1 : (options?.minFactor ?? 0.1);
  }

  begin(node: UpstreamNode, now: number): void {
    if (this.windowMs <= 0 || this.minFactor >= 1) return;
    node.slowStartFrom = now;
    node.slowStartUntil = now + this.windowMs;
    node.admission |= ADMIT_SLOW_START;
  }

  /** The node's share of normal traffic, in [minFactor, 1]. */
  factor(node: UpstreamNode, now: number): number {
    if (now >= node.slowStartUntil) return 1;
    return Math.max(this.minFactor, (now - node.slowStartFrom) / this.windowMs);
  }

  /** The ramp is over: picks of this node no longer need a look. */
  end(node: UpstreamNode): void {
    node.admission &= ~ADMIT_SLOW_START;
  }
}
