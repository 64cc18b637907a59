/**
 * Instances waiting for another instance's lease holder to fill a key: woken by its fill message on the bus, or by
 * their poll timer in case the message is lost. @internal
 */
export class FillWaiters {
  private readonly waiting = new Map<string, Set<() => void>>();

  /** Resolves when the key's fill is announced, or after `ms`. */
  wait(key: string, ms: number): Promise<void> {
    return new Promise((resolve) => {
      let waiters = this.waiting.get(key);
      if (!waiters) this.waiting.set(key, (waiters = new Set()));
      const wake = () => {
        clearTimeout(timer);
        waiters.delete(wake);
        if (waiters.size === 0 && this.waiting.get(key) === waiters) this.waiting.delete(key);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      waiters.add(wake);
    });
  }

  filled(key: string): void {
    const waiters = this.waiting.get(key);
    if (waiters) for (const wake of Array.from(waiters)) wake();
  }

  wakeAll(): void {
    for (const waiters of Array.from(this.waiting.values())) for (const wake of Array.from(waiters)) wake();
  }
}
