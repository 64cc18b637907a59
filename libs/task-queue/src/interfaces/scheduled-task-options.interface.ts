import type { TaskHandlerOptions } from './task-handler-options.interface.js';

/**
 * @publicApi Options of `@ScheduledTask(taskName, options)`: exactly one of `cron` and `everyMs`. The method is
 * also the task's handler, so the handler options (`queue`, `attempts`, `backoff`, `timeoutMs`, …) apply.
 */
export interface ScheduledTaskOptions extends TaskHandlerOptions {
  /** A cron pattern, 5 fields (minute first) or 6 (seconds first), e.g. `'0 3 * * *'` for 03:00 every day. */
  cron?: string;
  /** Time zone of `cron` (IANA name, default UTC), e.g. `'Europe/Paris'`. */
  tz?: string;
  /** A fixed interval in milliseconds (1 to 2,147,483,647). */
  everyMs?: number;
  /** The payload of every run (default none). */
  payload?: unknown;
}
