import { SetMetadata } from '@nestjs/common';
import type { TaskEventName } from '../interfaces/task-event.interface.js';
import { TASK_EVENT_METADATA } from '../task-queue.constants.js';

/** @internal What `@OnTaskEvent` stores on the method. */
export interface TaskEventMetadata {
  event: TaskEventName;
  queue: string | undefined;
}

/**
 * @publicApi Calls the method with a `TaskEvent` each time `event` happens on this instance to a task of `queue`
 * (default: the `forRoot` queue). Discovered at boot like `@TaskHandler`; what it throws is logged, never
 * passed to the queue.
 */
export function OnTaskEvent(event: TaskEventName, options: { queue?: string } = {}): MethodDecorator {
  return SetMetadata<string, TaskEventMetadata>(TASK_EVENT_METADATA, { event, queue: options?.queue });
}
