import { type DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BULL_CONFIG_DEFAULT_TOKEN, getQueueToken } from '@nestjs/bullmq';
import { BullMqTaskQueueDriver } from './drivers/bullmq.driver.js';
import { MemoryTaskQueueDriver } from './drivers/memory.driver.js';
import { TaskQueueDriver } from './drivers/task-queue.driver.js';
import type {
  RegisterTaskQueueOptions,
  TaskQueueModuleOptions,
} from './interfaces/task-queue-options.interface.js';
import { RESOLVED_TASK_QUEUE_OPTIONS, TASK_QUEUE_NAME } from './task-queue.constants.js';
import { TaskQueueExplorer } from './task-queue.explorer.js';
import { ConfigurableTaskQueueModule, TASK_QUEUE_MODULE_OPTIONS } from './task-queue.module-definition.js';
import {
  resolveRegisteredQueueOptions,
  resolveTaskQueueOptions,
  type ResolvedTaskQueueOptions,
  type SharedBullConfig,
  withSharedBullConfig,
} from './task-queue.options.js';
import { TaskQueue } from './task-queue.service.js';
import { getTaskQueueToken } from './task-queue.tokens.js';
import { TaskRunner } from './task-runner.js';
import { TaskQueueTelemetry } from './telemetry/task-queue-telemetry.js';

/** A `BullModule.forRoot` configuration, when the app has one. */
const SHARED_BULL_CONFIG = { token: BULL_CONFIG_DEFAULT_TOKEN, optional: true };

function createDriver(options: ResolvedTaskQueueOptions, runner: TaskRunner): TaskQueueDriver {
  return options.driver === 'bullmq'
    ? new BullMqTaskQueueDriver(runner, options)
    : new MemoryTaskQueueDriver(runner, options);
}

const registrations = new Map<string, DynamicModule>();

/** Equal plain options give equal keys; anything JSON cannot carry is never shared. */
function registrationKey(queue: RegisterTaskQueueOptions): string | undefined {
  try {
    return JSON.stringify(queue);
  } catch {
    return undefined;
  }
}

/** @internal The module of one `registerQueue` (Nest dedupes identical registrations into one). */
@Module({})
export class TaskQueueFeatureModule {}

/**
 * @publicApi `TaskQueueModule.forRoot(options)` / `forRootAsync({ imports, inject, useFactory })`, global by
 * default, and `TaskQueueModule.registerQueue({ name, … })` for further queues in feature modules. Options are
 * validated at boot; a bad one fails the boot naming it.
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RESOLVED_TASK_QUEUE_OPTIONS,
      useFactory: (options: TaskQueueModuleOptions, queueName: string, shared: SharedBullConfig | undefined) =>
        resolveTaskQueueOptions(withSharedBullConfig(options, shared), queueName),
      inject: [TASK_QUEUE_MODULE_OPTIONS, TASK_QUEUE_NAME, SHARED_BULL_CONFIG],
    },
    {
      provide: TaskRunner,
      useFactory: (options: ResolvedTaskQueueOptions) =>
        new TaskRunner(options.timeoutMs, new TaskQueueTelemetry(options.queueName)),
      inject: [RESOLVED_TASK_QUEUE_OPTIONS],
    },
    {
      provide: TaskQueueDriver,
      useFactory: createDriver,
      inject: [RESOLVED_TASK_QUEUE_OPTIONS, TaskRunner],
    },
    TaskQueueExplorer,
    TaskQueue,
  ],
  exports: [TaskQueue, TaskQueueExplorer, TASK_QUEUE_MODULE_OPTIONS],
})
export class TaskQueueModule extends ConfigurableTaskQueueModule {
  /**
   * A further queue, on the `forRoot` driver and connection (so `forRoot` must be global, its default): inject it
   * with `@InjectTaskQueue(name)`, bind handlers with `@TaskHandler(task, { queue: name })`; with BullMQ it is also
   * `@InjectQueue(name)`. Its own options (concurrency, workers, attempts, …) override the `forRoot` ones.
   */
  static registerQueue(queue: RegisterTaskQueueOptions): DynamicModule {
    // The same registration imported by several feature modules must be one module (one queue, one worker):
    // Nest dedupes a dynamic module by identity, so equal options give back the same object.
    const key = registrationKey(queue);
    const known = key === undefined ? undefined : registrations.get(key);
    if (known !== undefined) return known;
    const module = TaskQueueModule.buildQueueModule(queue);
    if (key !== undefined) registrations.set(key, module);
    return module;
  }

  private static buildQueueModule(queue: RegisterTaskQueueOptions): DynamicModule {
    const name = String((queue as Partial<RegisterTaskQueueOptions> | null)?.name);
    const token = getTaskQueueToken(name);
    return {
      module: TaskQueueFeatureModule,
      providers: [
        {
          provide: token,
          useFactory: (root: TaskQueueModuleOptions, shared: SharedBullConfig | undefined, explorer: TaskQueueExplorer) => {
            const options = resolveRegisteredQueueOptions(root, queue, shared);
            const runner = new TaskRunner(options.timeoutMs, new TaskQueueTelemetry(options.queueName));
            return new TaskQueue(options, createDriver(options, runner), runner, explorer);
          },
          inject: [TASK_QUEUE_MODULE_OPTIONS, SHARED_BULL_CONFIG, TaskQueueExplorer],
        },
        {
          provide: getQueueToken(name),
          useFactory: (tasks: TaskQueue) => tasks.bullQueue ?? null,
          inject: [token],
        },
      ],
      exports: [token, getQueueToken(name)],
    };
  }
}
