/** Hedges may bank at most this many tokens, so a quiet spell cannot fund a burst of hedges later. */
const MAX_TOKENS = 10;

/**
 * The balancer-wide allowance of hedged tries: each hedge-eligible call deposits its `hedge.budget` share of a token
 * and each hedge withdraws a whole one, so hedges add at most that share of extra load (10 % by default) however
 * slow the cluster gets. Starts empty: no hedge before the traffic that pays for it.
 */
export class HedgeBudget {
  private tokens = 0;

  deposit(share: number): void {
    this.tokens = Math.min(MAX_TOKENS, this.tokens + share);
  }

  tryWithdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a token withdrawn for a hedge that found no other node to go to. */
  refund(): void {
    this.tokens = Math.min(MAX_TOKENS, this.tokens + 1);
  }

  get available(): number {
    return this.tokens;
  }
}
