/**
 * The Redis time one cache call may spend, shared by all of its Redis steps: `l2.timeoutMs` is the most a call adds
 * when Redis hangs, however many steps (entry read, tag versions, lease, fill) it has. Time spent outside Redis (the
 * loader, waiting for another instance's lease) does not count. Monotonic: wall-clock steps change nothing.
 * @internal
 */
export class CallBudget {
  private deadline: number;

  constructor(ms: number) {
    this.deadline = performance.now() + ms;
  }

  /** Milliseconds left (≤ 0 once spent). */
  left(): number {
    return this.deadline - performance.now();
  }

  /** Runs work that is not Redis time. */
  async outside<T>(work: () => Promise<T> | T): Promise<T> {
    const t0 = performance.now();
    try {
      return await work();
    } finally {
      this.deadline += performance.now() - t0;
    }
  }
}
