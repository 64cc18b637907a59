import { ConfigurableModuleBuilder } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { BullMqTaskQueueDriver } from './drivers/bullmq.driver.js';
import { TaskQueueDriver } from './drivers/task-queue.driver.js';
import type { TaskQueueModuleOptions } from './interfaces/task-queue-options.interface.js';
import { DEFAULT_QUEUE_NAME, TASK_QUEUE_NAME } from './task-queue.constants.js';
import { TaskQueue } from './task-queue.service.js';
import { getTaskQueueToken } from './task-queue.tokens.js';

/** Options that shape the module itself, so they are given outside the (possibly async) options factory. */
export interface TaskQueueModuleExtras {
  /** Register the module globally, so `TaskQueue` can be injected everywhere (default true). */
  isGlobal?: boolean;
  /** BullMQ queue name, also the name for `@InjectQueue(queueName)` (default `nest-scale-tasks`). */
  queueName?: string;
}

export const {
  ConfigurableModuleClass: ConfigurableTaskQueueModule,
  MODULE_OPTIONS_TOKEN: TASK_QUEUE_MODULE_OPTIONS,
  OPTIONS_TYPE: TASK_QUEUE_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: TASK_QUEUE_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TaskQueueModuleOptions>({ moduleName: 'TaskQueue' })
  .setClassMethodName('forRoot')
  .setExtras<TaskQueueModuleExtras>({ isGlobal: true, queueName: DEFAULT_QUEUE_NAME }, (definition, extras) => {
    const queueName = extras.queueName ?? DEFAULT_QUEUE_NAME;
    return {
      ...definition,
      global: extras.isGlobal ?? true,
      providers: [
        ...(definition.providers ?? []),
        { provide: TASK_QUEUE_NAME, useValue: queueName },
        // The BullMQ queue under @nestjs/bullmq's token (null with the memory driver).
        {
          provide: getQueueToken(queueName),
          useFactory: (driver: TaskQueueDriver) => (driver instanceof BullMqTaskQueueDriver ? driver.queue : null),
          inject: [TaskQueueDriver],
        },
        // The root queue under its name too, so getTaskQueueToken(queueName) works for every queue.
        { provide: getTaskQueueToken(queueName), useExisting: TaskQueue },
      ],
      exports: [...(definition.exports ?? []), getQueueToken(queueName), getTaskQueueToken(queueName)],
    };
  })
  .build();
