import { Inject } from '@nestjs/common';
import { getTaskQueueToken } from '../task-queue.tokens.js';

/** @publicApi Injects the `TaskQueue` named `name` (`registerQueue({ name })`); no name: the `forRoot` queue. */
export function InjectTaskQueue(name?: string): PropertyDecorator & ParameterDecorator {
  return Inject(getTaskQueueToken(name));
}
