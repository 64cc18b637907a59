/** An operation racing its deadline. */
interface Pending {
  at: number;
  reject: (error: Error) => void;
}

/** Sweeps per budget: an operation fails between `ms` and `ms + ms / SWEEPS` after it started. */
const SWEEPS = 5;

/**
 * The time budget of Redis operations. A per-call `setTimeout` (and cockatiel's timeout policy, ~50 µs per call with
 * its AbortController and linked signals) is work on every L2 hit; here a call costs a Set insert and delete, and one
 * shared sweep timer runs only while operations are in flight.
 * @internal
 */
export class Deadlines {
  private readonly inFlight = new Set<Pending>();
  private sweeper: NodeJS.Timeout | undefined;
  private readonly sweepMs: number;

  constructor(private readonly ms: number) {
    this.sweepMs = Math.max(1, Math.floor(ms / SWEEPS));
  }

  /** Settles like `work`, or rejects once the budget is spent. */
  race<T>(work: PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const pending: Pending = { at: Date.now() + this.ms, reject };
      this.inFlight.add(pending);
      if (this.sweeper === undefined) this.startSweeping();
      work.then(
        (value) => {
          this.inFlight.delete(pending);
          resolve(value);
        },
        (error: unknown) => {
          this.inFlight.delete(pending);
          reject(error as Error);
        },
      );
    });
  }

  close(): void {
    clearInterval(this.sweeper);
    this.sweeper = undefined;
  }

  private startSweeping(): void {
    this.sweeper = setInterval(() => this.sweep(), this.sweepMs);
    this.sweeper.unref();
  }

  private sweep(): void {
    if (this.inFlight.size === 0) return this.close();
    const now = Date.now();
    for (const pending of this.inFlight) {
      if (pending.at > now) continue;
      this.inFlight.delete(pending);
      pending.reject(new Error(`Redis operation exceeded its ${this.ms} ms budget`));
    }
  }
}
