import { MAX_TIMER_MS } from '../task-queue.constants.js';
import { nextCronTime } from '../task-queue.options.js';
import type { ScheduledNewTask } from './task-queue.driver.js';

/**
 * @internal The memory driver's schedules: one timer per schedule, on the global clock (so fake timers drive it).
 * Each timer enqueues one run, then waits for the first occurrence after now: occurrences missed while the event
 * loop was blocked are skipped, never run in a burst. Nothing survives the process.
 */
export class MemorySchedules {
  private readonly timers = new Map<string, ReturnType<typeof setTimeout>>();

  constructor(private readonly enqueue: (entry: ScheduledNewTask) => void) {}

  start(entries: readonly ScheduledNewTask[]): void {
    this.stop();
    const now = Date.now();
    for (const entry of entries) this.arm(entry, next(entry, now, now));
  }

  stop(): void {
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
  }

  /** Waits until `at` in timer steps (Node fires a longer timer at once), then runs and re-arms. */
  private arm(entry: ScheduledNewTask, at: number): void {
    const wait = Math.max(0, at - Date.now());
    const step = Math.min(wait, MAX_TIMER_MS);
    const timer = setTimeout(() => {
      if (wait > step) return this.arm(entry, at);
      this.enqueue(entry);
      this.arm(entry, next(entry, at, Date.now()));
    }, step);
    timer.unref?.();
    this.timers.set(entry.name, timer);
  }
}

/** The first occurrence after `now`, counted from the previous one (`previous`) so intervals do not drift. */
function next(entry: ScheduledNewTask, previous: number, now: number): number {
  const { schedule } = entry;
  if (schedule.kind === 'cron') return nextCronTime(schedule, Math.max(previous, now));
  if (previous === now) return now + schedule.everyMs;
  return previous + schedule.everyMs * (Math.floor((now - previous) / schedule.everyMs) + 1);
}
