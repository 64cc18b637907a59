import type { TaskBackoffOptions } from '../interfaces/task-backoff-options.interface.js';
import type { TaskErrorInfo, TaskInfo, TaskState } from '../interfaces/task-info.interface.js';
import type { TaskEvents } from '../task-events.js';
import type { TraceCarrier } from '../telemetry/task-spans.js';
import { clonePayload } from '../task-payload.js';
import { MAX_TASK_LOG_LINES } from '../task-queue.constants.js';
import { TaskRun } from '../task-runner.js';

/** @internal A task of the memory driver, in whatever state it is. */
export class MemoryTask {
  state: TaskState = 'waiting';
  failures = 0;
  result: unknown;
  error: TaskErrorInfo | undefined;
  finishedAt: number | undefined;
  timer: ReturnType<typeof setTimeout> | undefined;
  progress: number | object | undefined;
  logs: string[] | undefined;
  /** Its producer's trace context (set only while tracing). */
  trace: TraceCarrier | undefined;
  /** When it last became ready to run (enqueued, delay over, backoff over, retried): the health check's age. */
  readyAt = 0;

  constructor(
    readonly seq: number,
    readonly name: string,
    readonly payload: unknown,
    readonly priority: number,
    readonly attempts: number,
    readonly backoff: Required<TaskBackoffOptions>,
    readonly createdAt: number,
  ) {}

  /** Made when asked for, not kept: a queued task is then a string smaller (the queue can hold many). */
  get id(): string {
    return String(this.seq);
  }
}

/** @internal What a run needs from its driver. */
export interface MemoryRunOwner {
  readonly events: TaskEvents;
  settled(task: MemoryTask, error: unknown, result: unknown, failed: boolean): void;
}

/** @internal One attempt of a memory task. */
export class MemoryRun extends TaskRun {
  constructor(
    readonly task: MemoryTask,
    private readonly driver: MemoryRunOwner,
  ) {
    // Its own copy, as each BullMQ attempt parses its own: a handler that mutates it cannot change later attempts.
    super(task.id, task.name, task.failures + 1, clonePayload(task.payload));
  }

  settle(error: unknown, result: unknown, failed: boolean): void {
    this.driver.settled(this.task, error, result, failed);
  }

  override traceCarrier(): unknown {
    return this.task.trace;
  }

  protected async reportProgress(value: number | object): Promise<void> {
    this.task.progress = value;
    this.driver.events.emit('progress', this.id, this.name, this.attempt, value);
  }

  protected async appendLog(line: string): Promise<void> {
    const logs = (this.task.logs ??= []);
    logs.push(line);
    if (logs.length > MAX_TASK_LOG_LINES) logs.shift();
  }
}

/** @internal A memory task as `getTask` and `listDead` answer it (copies: the caller cannot change the task). */
export function info(task: MemoryTask): TaskInfo {
  return {
    id: task.id,
    name: task.name,
    state: task.state,
    payload: clonePayload(task.payload),
    attemptsMade: task.failures + (task.state === 'completed' ? 1 : 0),
    maxAttempts: task.attempts,
    ...(task.state === 'completed' ? { result: task.result } : {}),
    ...(task.error !== undefined ? { error: task.error } : {}),
    createdAt: task.createdAt,
    ...(task.finishedAt !== undefined ? { finishedAt: task.finishedAt } : {}),
    ...(task.progress !== undefined && task.progress !== 0
      ? { progress: clonePayload(task.progress) as number | object }
      : {}),
    ...(task.logs !== undefined ? { logs: [...task.logs] } : {}),
  };
}
