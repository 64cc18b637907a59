import { CronExpressionParser } from 'cron-parser';
import type { ScheduledTaskOptions } from '../interfaces/scheduled-task-options.interface.js';
import type { TaskHandlerOptions } from '../interfaces/task-handler-options.interface.js';
import { HANDLER_OPTION_KEYS } from './handler-option-keys.js';
import { fail, keysOf, onlyKeys, timerOption } from './option-rules.js';

/** Every key of `ScheduledTaskOptions`: the handler options and the schedule's own (`payload` is task data, unchecked). */
const SCHEDULED_TASK_OPTION_KEYS = [
  ...HANDLER_OPTION_KEYS,
  ...keysOf<Omit<ScheduledTaskOptions, keyof TaskHandlerOptions>>({
    cron: true,
    tz: true,
    everyMs: true,
    payload: true,
  }),
];

/** @internal A schedule as `@ScheduledTask` gives it (before checks). */
export interface ScheduleMetadata {
  cron?: unknown;
  tz?: unknown;
  everyMs?: unknown;
  payload?: unknown;
  given: unknown;
}

/** @internal A checked schedule: exactly one of `cron` (with its zone) and `everyMs`. */
export type ResolvedSchedule =
  { kind: 'cron'; cron: string; tz: string; payload: unknown } | { kind: 'every'; everyMs: number; payload: unknown };

/** @internal Checks `@ScheduledTask` options at boot; the cron pattern and zone are parsed once here. */
export function resolveSchedule(where: string, meta: ScheduleMetadata): ResolvedSchedule {
  const at = (key: string) => `${where}: ${key}`;
  if (meta.given === null || typeof meta.given !== 'object') {
    fail(at('options'), meta.given, 'an object { cron } or { everyMs }', 'Give a cron pattern or an interval.');
  }
  onlyKeys(at('options'), meta.given, SCHEDULED_TASK_OPTION_KEYS);
  if ((meta.cron === undefined) === (meta.everyMs === undefined)) {
    fail(
      at('cron / everyMs'),
      { cron: meta.cron, everyMs: meta.everyMs },
      'exactly one of the two',
      'Give a cron pattern or an interval, not both.',
    );
  }
  if (meta.everyMs !== undefined) {
    if (meta.tz !== undefined) fail(at('tz'), meta.tz, 'left out with everyMs', 'A time zone applies to cron only.');
    const everyMs = timerOption(at('everyMs'), meta.everyMs as number, 1) as number;
    return { kind: 'every', everyMs, payload: meta.payload };
  }
  const tz = meta.tz ?? 'UTC';
  if (typeof tz !== 'string' || !isTimeZone(tz)) {
    fail(at('tz'), meta.tz, 'an IANA time zone such as "Europe/Paris" or "UTC"');
  }
  if (typeof meta.cron !== 'string') fail(at('cron'), meta.cron, 'a cron pattern string such as "0 3 * * *"');
  try {
    CronExpressionParser.parse(meta.cron, { tz: tz as string }).next();
  } catch (error) {
    fail(
      at('cron'),
      meta.cron,
      `a valid cron pattern (${(error as Error).message})`,
      'Use 5 fields (minute first) or 6 (second first).',
    );
  }
  return { kind: 'cron', cron: meta.cron, tz: tz as string, payload: meta.payload };
}

function isTimeZone(tz: string): boolean {
  try {
    return new Intl.DateTimeFormat('en', { timeZone: tz }).resolvedOptions().timeZone !== '';
  } catch {
    return false;
  }
}

/** @internal The next occurrence of a cron schedule after `after` (epoch ms). */
export function nextCronTime(schedule: { cron: string; tz: string }, after: number): number {
  return CronExpressionParser.parse(schedule.cron, { tz: schedule.tz, currentDate: new Date(after) })
    .next()
    .getTime();
}
