import { applyDecorators, SetMetadata } from '@nestjs/common';
import type { ScheduledTaskOptions } from '../interfaces/scheduled-task-options.interface.js';
import { TASK_HANDLER_METADATA, TASK_SCHEDULE_METADATA } from '../task-queue.constants.js';
import type { TaskHandlerMetadata } from './task-handler.decorator.js';

/**
 * @publicApi Runs the method as task `taskName` on a schedule (`cron` or `everyMs`), once per occurrence across
 * every instance sharing the queue (BullMQ job schedulers; timers on the memory driver). The method is the task's
 * handler, so `enqueue(taskName)` also runs it on demand.
 */
export function ScheduledTask(taskName: string, options: ScheduledTaskOptions): MethodDecorator {
  const { cron, tz, everyMs, payload, ...handler } = options ?? ({} as ScheduledTaskOptions);
  return applyDecorators(
    SetMetadata<string, TaskHandlerMetadata>(TASK_HANDLER_METADATA, { name: taskName, options: handler }),
    SetMetadata(TASK_SCHEDULE_METADATA, { cron, tz, everyMs, payload, given: options }),
  );
}
