import { Inject, Injectable, Logger } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, Reflector } from '@nestjs/core';
import type { TaskHandlerMetadata } from './decorators/task-handler.decorator.js';
import { DuplicateTaskHandlerError } from './errors/duplicate-task-handler.error.js';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { TaskContext } from './interfaces/task-context.interface.js';
import { RESOLVED_TASK_QUEUE_OPTIONS, TASK_HANDLER_METADATA } from './task-queue.constants.js';
import { HANDLER_IGNORED, INVALID_OPTION } from './task-queue.messages.js';
import { resolveHandlerOptions, type ResolvedTaskQueueOptions } from './task-queue.options.js';
import { RegisteredTaskHandler } from './task-runner.js';

/** @internal Finds every `@TaskHandler` method of every provider and controller, once, at init. */
@Injectable()
export class TaskQueueExplorer {
  private readonly logger = new Logger('TaskQueue');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly reflector: Reflector,
    @Inject(RESOLVED_TASK_QUEUE_OPTIONS) private readonly options: ResolvedTaskQueueOptions,
  ) {}

  explore(): Map<string, RegisteredTaskHandler> {
    const handlers = new Map<string, RegisteredTaskHandler>();
    const seen = new Set<object>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const instance: unknown = wrapper.instance;
      if (instance === null || typeof instance !== 'object' || seen.has(instance)) continue;
      seen.add(instance);
      const prototype = Object.getPrototypeOf(instance) as object | null;
      if (prototype === null) continue;
      for (const methodName of this.scanner.getAllMethodNames(prototype)) {
        const method = (instance as Record<string, unknown>)[methodName];
        if (typeof method !== 'function') continue;
        const meta = this.reflector.get<TaskHandlerMetadata | undefined>(TASK_HANDLER_METADATA, method);
        if (meta === undefined) continue;
        const where = `${prototype.constructor.name}.${methodName}`;
        if (!wrapper.isDependencyTreeStatic()) {
          this.logger.warn(
            HANDLER_IGNORED(where, 'request-scoped (or transient) providers cannot run tasks; make it a singleton'),
          );
          continue;
        }
        const existing = handlers.get(meta.name);
        if (existing !== undefined) throw new DuplicateTaskHandlerError(meta.name, existing.where, where);
        handlers.set(
          meta.name,
          this.register(meta, where, method.bind(instance) as (p: unknown, c: TaskContext) => unknown),
        );
      }
    }
    return handlers;
  }

  private register(
    meta: TaskHandlerMetadata,
    where: string,
    invoke: (payload: unknown, context: TaskContext) => unknown,
  ): RegisteredTaskHandler {
    if (typeof meta.name !== 'string' || meta.name.length === 0) {
      throw new InvalidTaskQueueOptionsError(
        INVALID_OPTION(`@TaskHandler name on ${where}`, meta.name, 'a non-empty string', 'Name the task.'),
      );
    }
    const options = resolveHandlerOptions(`@TaskHandler("${meta.name}") on ${where}`, meta.options);
    return new RegisteredTaskHandler(
      meta.name,
      where,
      invoke,
      Math.min(options.concurrency ?? Infinity, this.options.concurrency),
      options.attempts,
      options.backoff,
      options.timeoutMs,
    );
  }
}
