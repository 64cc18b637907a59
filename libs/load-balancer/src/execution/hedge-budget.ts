/** The bank's floor: a balancer with few calls running may still bank this many hedges. */
const MIN_BANK = 10;

/**
 * The balancer-wide allowance of hedged tries: each hedge-eligible call deposits its `hedge.budget` share of a token
 * and each hedge withdraws a whole one, so hedges add at most that share of extra load (10 % by default) however
 * slow the cluster gets. Starts empty: no hedge before the traffic that pays for it.
 *
 * The bank holds at most one token per hedge-eligible call running (at least 10), so a quiet spell cannot fund more
 * than one extra try per running call later. That is the burst a paused node causes: every call it holds turns slow
 * at the same moment, and a fixed small bank would hedge the first few of them and leave the rest to wait.
 */
export class HedgeBudget {
  private tokens = 0;
  private running = 0;

  /** A hedge-eligible call started; it counts toward the bank's size until `callEnded`. */
  callStarted(): void {
    this.running++;
  }

  callEnded(): void {
    this.running--;
  }

  deposit(share: number): void {
    this.tokens = Math.min(this.capacity, this.tokens + share);
  }

  tryWithdraw(): boolean {
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Gives back a token withdrawn for a hedge that found no other node to go to. */
  refund(): void {
    this.tokens = Math.min(this.capacity, this.tokens + 1);
  }

  get available(): number {
    return this.tokens;
  }

  private get capacity(): number {
    return this.running > MIN_BANK ? this.running : MIN_BANK;
  }
}
