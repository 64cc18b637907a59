/** Metadata key under which `@TaskHandler` stores its name and options on a method. */
export const TASK_HANDLER_METADATA = 'nest_scale:task_handler';

/** Metadata key of `@ScheduledTask`'s schedule. */
export const TASK_SCHEDULE_METADATA = 'nest_scale:task_schedule';

/** Prefix of the BullMQ job scheduler ids this module owns (others on the queue are left alone). */
export const SCHEDULE_ID_PREFIX = 'nest-scale:';

/** Metadata key of `@OnTaskEvent`. */
export const TASK_EVENT_METADATA = 'nest_scale:task_event';

/** Injection token of the resolved (validated, defaults applied) module options. @internal */
export const RESOLVED_TASK_QUEUE_OPTIONS = 'nest_scale:task_queue:resolved_options';

/** Injection token of the BullMQ queue name. @internal */
export const TASK_QUEUE_NAME = 'nest_scale:task_queue:queue_name';

export const DEFAULT_QUEUE_NAME = 'nest-scale-tasks';
export const DEFAULT_CONCURRENCY = 10;
export const DEFAULT_ATTEMPTS = 3;
export const DEFAULT_BACKOFF_DELAY_MS = 1_000;
export const DEFAULT_BACKOFF_JITTER = 0.5;
export const DEFAULT_DEDUP_WINDOW_MS = 24 * 60 * 60 * 1_000;
export const DEFAULT_SHUTDOWN_DEADLINE_MS = 10_000;
export const DEFAULT_KEEP_COMPLETED = 1_000;
export const DEFAULT_COMPLETED_MAX_AGE_MS = 24 * 60 * 60 * 1_000;
export const DEFAULT_DEAD_MAX_COUNT = 10_000;
export const DEFAULT_DEAD_MAX_AGE_MS = 7 * 24 * 60 * 60 * 1_000;
export const DEFAULT_ENQUEUE_TIMEOUT_MS = 5_000;
/** Log lines kept per task (`context.log`), the newest; BullMQ's `keepLogs`. */
export const MAX_TASK_LOG_LINES = 100;
/**
 * Longest wait between tries to reach Redis again (BullMQ's own default grows to 20 s, so a queue took up to that
 * long to notice Redis was back).
 */
export const DEFAULT_RECONNECT_MAX_DELAY_MS = 500;
/** The first reconnect try waits this long, each next one this much longer, up to the maximum. */
export const RECONNECT_DELAY_STEP_MS = 50;
/** BullMQ's own priority range: 0 means "no priority", larger numbers run later. */
export const MAX_PRIORITY = 2_097_151;
/** Node fires a timer set above this (2^31 − 1 ms, about 24.8 days) after about 1 ms. */
export const MAX_TIMER_MS = 2_147_483_647;
/**
 * Longest `delayMs` (365 days; the memory driver chains timers to wait that long). BullMQ scores delayed jobs as
 * `timestamp · 4096`, which stays exact below 2^53 only until about 2039, so much longer delays are not safe there.
 */
export const MAX_DELAY_MS = 365 * 24 * 60 * 60 * 1_000;
