export type { EnqueueManyItem, EnqueueOptions } from './enqueue-options.interface.js';
export type { TaskBackoffOptions } from './task-backoff-options.interface.js';
export type { ScheduledTaskOptions } from './scheduled-task-options.interface.js';
export type { TaskContext } from './task-context.interface.js';
export type { TaskEvent, TaskEventListener, TaskEventName } from './task-event.interface.js';
export type { BatchTask, TaskHandlerOptions } from './task-handler-options.interface.js';
export type { TaskErrorInfo, TaskInfo, TaskState } from './task-info.interface.js';
export type {
  BullMqWorkerTuning,
  RegisterTaskQueueOptions,
  TaskQueueClusterConnection,
  TaskQueueConnection,
  TaskQueueModuleOptions,
  TaskQueueRetention,
  TaskRetentionLimit,
} from './task-queue-options.interface.js';
export type { TaskDurationStats, TaskQueueStats } from './task-queue-stats.interface.js';
export type { TaskRef } from './task-ref.interface.js';
