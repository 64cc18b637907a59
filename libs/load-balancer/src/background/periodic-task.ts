import type { Logger } from '@nestjs/common';
import type { Clock, TimerHandle } from '../clock/clock.js';
import { BACKGROUND_TASK_FAILED } from '../load-balancer.messages.js';

/**
 * A round that runs on a timer, the next one scheduled only after the previous settled (no overlap). A round never
 * rejects: whatever throws in it (a custom strategy, checker, provider or listener) is logged and the next round runs
 * on schedule.
 */
export class PeriodicTask {
  private timer: TimerHandle | undefined;
  private running = false;

  constructor(
    private readonly clock: Clock,
    private readonly logger: Logger,
    private readonly balancer: string,
    private readonly task: string,
    private readonly intervalMs: number,
    private readonly round: () => Promise<void>,
  ) {}

  start(firstDelayMs = this.intervalMs): void {
    this.running = true;
    this.schedule(firstDelayMs);
  }

  stop(): void {
    this.running = false;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedule(delayMs: number): void {
    this.timer = this.clock.setTimeout(() => {
      if (!this.running) return;
      void this.runOnce().then(() => {
        if (this.running) this.schedule(this.intervalMs);
      });
    }, delayMs);
  }

  private async runOnce(): Promise<void> {
    try {
      await this.round();
    } catch (error) {
      this.logger.error(BACKGROUND_TASK_FAILED(this.balancer, this.task, String(error)));
    }
  }
}
