import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BullMqTaskQueueDriver } from './drivers/bullmq.driver.js';
import { MemoryTaskQueueDriver } from './drivers/memory.driver.js';
import { TaskQueueDriver } from './drivers/task-queue.driver.js';
import type { TaskQueueModuleOptions } from './interfaces/task-queue-options.interface.js';
import { RESOLVED_TASK_QUEUE_OPTIONS, TASK_QUEUE_NAME } from './task-queue.constants.js';
import { TaskQueueExplorer } from './task-queue.explorer.js';
import { ConfigurableTaskQueueModule, TASK_QUEUE_MODULE_OPTIONS } from './task-queue.module-definition.js';
import { resolveTaskQueueOptions, type ResolvedTaskQueueOptions } from './task-queue.options.js';
import { TaskQueue } from './task-queue.service.js';
import { TaskRunner } from './task-runner.js';

/**
 * @publicApi `TaskQueueModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`, global by
 * default. Options are validated at boot; a bad one fails the boot naming it.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RESOLVED_TASK_QUEUE_OPTIONS,
      useFactory: (options: TaskQueueModuleOptions, queueName: string) => resolveTaskQueueOptions(options, queueName),
      inject: [TASK_QUEUE_MODULE_OPTIONS, TASK_QUEUE_NAME],
    },
    {
      provide: TaskRunner,
      useFactory: (options: ResolvedTaskQueueOptions) => new TaskRunner(options.timeoutMs),
      inject: [RESOLVED_TASK_QUEUE_OPTIONS],
    },
    {
      provide: TaskQueueDriver,
      useFactory: (options: ResolvedTaskQueueOptions, runner: TaskRunner): TaskQueueDriver =>
        options.driver === 'bullmq'
          ? new BullMqTaskQueueDriver(runner, options)
          : new MemoryTaskQueueDriver(runner, options),
      inject: [RESOLVED_TASK_QUEUE_OPTIONS, TaskRunner],
    },
    TaskQueueExplorer,
    TaskQueue,
  ],
  exports: [TaskQueue],
})
export class TaskQueueModule extends ConfigurableTaskQueueModule {}
