import type { TaskHandlerOptions } from '../interfaces/task-handler-options.interface.js';
import { keysOf } from './option-rules.js';

/** Every key of `TaskHandlerOptions`: `@TaskHandler` takes these, `@ScheduledTask` these and its schedule's own. */
export const HANDLER_OPTION_KEYS = keysOf<TaskHandlerOptions>({
  queue: true,
  concurrency: true,
  attempts: true,
  backoff: true,
  timeoutMs: true,
  batch: true,
  rateLimit: true,
});
