import { TaskQueue } from './task-queue.service.js';

/**
 * @publicApi The injection token of a queue: `getTaskQueueToken()` is the `forRoot` queue (the `TaskQueue`
 * class), `getTaskQueueToken(name)` the queue of that name (`registerQueue({ name })`, or the `forRoot` queue under
 * its `queueName`).
 */
export function getTaskQueueToken(name?: string): string | typeof TaskQueue {
  return name === undefined ? TaskQueue : `nest_scale:task_queue:${name}`;
}
