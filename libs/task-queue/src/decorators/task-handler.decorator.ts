import { SetMetadata } from '@nestjs/common';
import type { TaskHandlerOptions } from '../interfaces/task-handler-options.interface.js';
import { TASK_HANDLER_METADATA } from '../task-queue.constants.js';

/** @internal What `@TaskHandler` stores on the method. */
export interface TaskHandlerMetadata {
  name: string;
  options: TaskHandlerOptions;
}

/**
 * @publicApi Marks a method of any provider as the handler of task `name`. It is called as
 * `(payload, context)`; its resolved value becomes the task's result, a rejection a failed attempt.
 */
export function TaskHandler(name: string, options: TaskHandlerOptions = {}): MethodDecorator {
  return SetMetadata<string, TaskHandlerMetadata>(TASK_HANDLER_METADATA, { name, options });
}
