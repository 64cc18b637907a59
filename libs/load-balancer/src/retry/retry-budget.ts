import type { Clock } from '../clock/clock.js';
import type { RetryBudgetOptions } from '../interfaces/load-balancer-options.interface.js';

/**
 * Finagle-style retry budget as a token bucket: every first try deposits `ratio` tokens, time adds `minPerSecond`,
 * and each retry withdraws one. In an outage, when every try fails, retries stop at ~`ratio` extra load instead of
 * multiplying it by `retries + 1`.
 */
export class RetryBudget {
  private readonly ratio: number;
  private readonly perMs: number;
  private readonly maxTokens: number;
  private tokens: number;
  private stamp: number;

  constructor(
    options: RetryBudgetOptions,
    private readonly clock: Clock,
  ) {
    this.ratio = options.ratio ?? 0.2;
    this.perMs = (options.minPerSecond ?? 10) / 1000;
    this.maxTokens = options.maxTokens ?? 100;
    this.tokens = Math.min(this.maxTokens, options.minPerSecond ?? 10);
    this.stamp = clock.now();
  }

  deposit(): void {
    this.refill();
    this.tokens = Math.min(this.maxTokens, this.tokens + this.ratio);
  }

  /** Takes one token for a retry; false when the budget is spent. */
  tryWithdraw(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  get available(): number {
    this.refill();
    return this.tokens;
  }

  private refill(): void {
    const now = this.clock.now();
    this.tokens = Math.min(this.maxTokens, this.tokens + (now - this.stamp) * this.perMs);
    this.stamp = now;
  }
}
