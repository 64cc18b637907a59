import type { TaskEventName } from '../interfaces/task-event.interface.js';
import { TASK_EVENT_METADATA } from '../task-queue.constants.js';

/** @internal What `@OnTaskEvent` stores on the method. */
export interface TaskEventMetadata {
  event: TaskEventName;
  queue: string | undefined;
  /** The options as given, for the boot's check of their keys. */
  given?: unknown;
}

/**
 * @publicApi Calls the method with a `TaskEvent` each time `event` happens on this instance to a task of `queue`
 * (default: the `forRoot` queue). Discovered at boot like `@TaskHandler`; what it throws is logged, never
 * passed to the queue. Stack several on one method to hear several events.
 */
export function OnTaskEvent(event: TaskEventName, options: { queue?: string } = {}): MethodDecorator {
  return (_target, _key, descriptor) => {
    const method = descriptor.value as object;
    const stacked = (Reflect.getMetadata(TASK_EVENT_METADATA, method) as TaskEventMetadata[] | undefined) ?? [];
    // Decorators apply bottom-up: prepend, so the list reads in source order.
    Reflect.defineMetadata(TASK_EVENT_METADATA, [{ event, queue: options?.queue, given: options }, ...stacked], method);
    return descriptor;
  };
}
