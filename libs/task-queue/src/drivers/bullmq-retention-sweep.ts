import type { Queue } from 'bullmq';
import type { ResolvedRetention } from '../task-queue.options.js';

/** Jobs removed per `clean` call, and calls per set per sweep: a backlog is worked off over several sweeps. */
const SWEEP_PAGE = 1_000;
const SWEEP_PAGES = 10;
/** The sweep runs every quarter of the shorter age, between these bounds. */
const MIN_SWEEP_INTERVAL_MS = 100;
const MAX_SWEEP_INTERVAL_MS = 60_000;

/** How often finished jobs are checked against their `ageMs`: removed at most this long after they expire. */
export function sweepIntervalMs(retention: ResolvedRetention): number {
  const shorter = Math.min(retention.completed.ageMs, retention.dead.ageMs);
  return Math.min(MAX_SWEEP_INTERVAL_MS, Math.max(MIN_SWEEP_INTERVAL_MS, Math.floor(shorter / 4)));
}

/**
 * @internal The age half of retention on BullMQ. The count half is the Worker's `removeOnComplete` /
 * `removeOnFail: { count }`, applied as each job finishes; an `age` there would cost every finish one more sorted-set
 * scan inside BullMQ's script (8 % of no-op throughput, measured), so instead each worker instance removes expired
 * finished jobs with `Queue.clean` on a timer. Several instances sweeping the same queue is harmless.
 */
export class BullRetentionSweep {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private stopped = false;

  constructor(
    private readonly queue: Queue,
    private readonly retention: ResolvedRetention,
    private readonly onError: (error: Error) => void,
  ) {}

  start(): void {
    if (this.timer !== undefined || this.stopped) return;
    this.timer = setInterval(() => void this.sweep(), sweepIntervalMs(this.retention));
    this.timer.unref();
  }

  /** Stops the timer; a sweep under way ends with its current call, and its failure is not reported. */
  stop(): void {
    this.stopped = true;
    clearInterval(this.timer);
  }

  async sweep(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    try {
      await this.clean(this.retention.completed.ageMs, 'completed');
      await this.clean(this.retention.dead.ageMs, 'failed');
    } catch (error) {
      if (!this.stopped) this.onError(error as Error);
    } finally {
      this.running = false;
    }
  }

  private async clean(ageMs: number, type: 'completed' | 'failed'): Promise<void> {
    for (let page = 0; page < SWEEP_PAGES && !this.stopped; page++) {
      if ((await this.queue.clean(ageMs, SWEEP_PAGE, type)).length < SWEEP_PAGE) return;
    }
  }
}
