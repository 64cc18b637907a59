import { Logger } from '@nestjs/common';
import type { TaskEvent, TaskEventListener, TaskEventName } from './interfaces/task-event.interface.js';
import { toTaskErrorInfo } from './task-error-info.js';
import { EVENT_LISTENER_FAILED } from './task-queue.messages.js';

/** Every event name, for the checks of `on` and `@OnTaskEvent`. */
export const TASK_EVENT_NAMES: readonly TaskEventName[] = [
  'enqueued',
  'active',
  'progress',
  'completed',
  'failed',
  'retrying',
  'dead',
  'stalled',
];

/** A failing listener is logged at most this often (with how many failures were not). */
const FAILURE_LOG_INTERVAL_MS = 5_000;

/**
 * @internal The listeners of one queue. Emitting an event nobody listens to costs one property read, so drivers
 * call `emit` on their hot paths unconditionally; the event object is built only when someone listens. A listener
 * that throws or rejects is logged and never reaches the queue.
 */
export class TaskEvents {
  private readonly listeners: Partial<Record<TaskEventName, TaskEventListener[]>> = {};
  private readonly logger = new Logger('TaskQueue');
  private lastFailureLog = -Infinity;
  private unlogged = 0;
  private readonly onRejected = (error: unknown) => this.listenerFailed(error);
  private readonly hooks: ((event: TaskEventName) => void)[] = [];

  constructor(private readonly queue: string) {}

  /** Calls `hook` for each event that has listeners, now and whenever another event gets its first one. */
  whenListened(hook: (event: TaskEventName) => void): void {
    this.hooks.push(hook);
    for (const event of Object.keys(this.listeners) as TaskEventName[]) hook(event);
  }

  on(event: TaskEventName, listener: TaskEventListener): () => void {
    if (this.listeners[event] === undefined) for (const hook of this.hooks) hook(event);
    // Copy on write: an emit in progress keeps iterating the list it started with, whoever subscribes or leaves.
    this.listeners[event] = [...(this.listeners[event] ?? []), listener];
    return () => {
      const rest = this.listeners[event]?.filter((l) => l !== listener) ?? [];
      if (rest.length > 0) this.listeners[event] = rest;
      else delete this.listeners[event];
    };
  }

  has(event: TaskEventName): boolean {
    return this.listeners[event] !== undefined;
  }

  /** `value` is the result (`completed`), the error (`failed`, `retrying`, `dead`) or the progress. */
  emit(event: TaskEventName, id: string, name: string, attempt: number | undefined, value?: unknown, retryInMs?: number): void {
    const list = this.listeners[event];
    if (list === undefined) return;
    const payload: TaskEvent = { event, queue: this.queue, id, name };
    if (attempt !== undefined) payload.attempt = attempt;
    if (event === 'completed') payload.result = value;
    else if (event === 'progress') payload.progress = value as number | object;
    else if (event === 'failed' || event === 'retrying' || event === 'dead') payload.error = toTaskErrorInfo(value);
    if (retryInMs !== undefined) payload.retryInMs = retryInMs;
    for (const listener of list) {
      try {
        const returned = listener(payload);
        if (returned instanceof Promise) returned.catch(this.onRejected);
      } catch (error) {
        this.listenerFailed(error);
      }
    }
  }

  private listenerFailed(error: unknown): void {
    const now = Date.now();
    if (now - this.lastFailureLog < FAILURE_LOG_INTERVAL_MS) {
      this.unlogged++;
      return;
    }
    this.logger.error(EVENT_LISTENER_FAILED(this.queue, error, this.unlogged));
    this.lastFailureLog = now;
    this.unlogged = 0;
  }
}
