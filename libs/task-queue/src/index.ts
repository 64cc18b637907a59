export { InjectTaskQueue } from './decorators/inject-task-queue.decorator.js';
export { OnTaskEvent } from './decorators/on-task-event.decorator.js';
export { ScheduledTask } from './decorators/scheduled-task.decorator.js';
export { TaskHandler } from './decorators/task-handler.decorator.js';
export {
  DuplicateTaskHandlerError,
  InvalidEnqueueOptionsError,
  InvalidTaskQueueArgumentError,
  InvalidTaskQueueOptionsError,
  NonRetryableError,
  TaskAbortedError,
  TaskEnqueueError,
  TaskTimeoutError,
  UnknownTaskError,
  UnserializablePayloadError,
} from './errors/index.js';
export type {
  BatchTask,
  BullMqWorkerTuning,
  EnqueueManyItem,
  EnqueueOptions,
  RegisterTaskQueueOptions,
  ScheduledTaskOptions,
  TaskBackoffOptions,
  TaskContext,
  TaskDurationStats,
  TaskErrorInfo,
  TaskEvent,
  TaskEventListener,
  TaskEventName,
  TaskHandlerOptions,
  TaskInfo,
  TaskQueueClusterConnection,
  TaskQueueConnection,
  TaskQueueModuleOptions,
  TaskQueueRetention,
  TaskRetentionLimit,
  TaskQueueStats,
  TaskRef,
  TaskState,
} from './interfaces/index.js';
export { DEFAULT_QUEUE_NAME } from './task-queue.constants.js';
export type { TaskQueueModuleExtras } from './task-queue.module-definition.js';
export { TaskQueueModule } from './task-queue.module.js';
export { TaskQueue } from './task-queue.service.js';
export { getTaskQueueToken } from './task-queue.tokens.js';
export { TASK_QUEUE_PROMETHEUS_VIEWS } from './telemetry/prometheus-views.js';
export {
  TaskQueueHealthIndicator,
  type TaskQueueHealthIndicatorResult,
  type TaskQueueHealthOptions,
} from './health/task-queue.health-indicator.js';
