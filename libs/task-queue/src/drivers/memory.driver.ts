import { Logger } from '@nestjs/common';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskAbortedError } from '../errors/task-aborted.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import type { TaskInfo } from '../interfaces/task-info.interface.js';
import type { TaskQueueStats } from '../interfaces/task-queue-stats.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import { fairPriority } from '../fair-priority.js';
import { RateWindow } from '../rate-limit.js';
import { backoffDelay } from '../retry-backoff.js';
import { TaskDeque } from '../task-deque.js';
import { toTaskErrorInfo } from '../task-error-info.js';
import { TaskHeap } from '../task-heap.js';
import { MAX_TIMER_MS } from '../task-queue.constants.js';
import { TaskEvents } from '../task-events.js';
import { NO_HANDLER_ON_WORKER, TASKS_DISCARDED_AT_SHUTDOWN } from '../task-queue.messages.js';
import type { ResolvedRetention } from '../task-queue.options.js';
import type { RegisteredTaskHandler, TaskRunner } from '../task-runner.js';
import { MemoryRetention } from './memory-retention.js';
import { MemoryTaskIndex } from './memory-task-index.js';
import { info, MemoryRun, MemoryTask } from './memory-task.js';
import { MemorySchedules } from './memory-schedules.js';
import { type NewTask, type ScheduledNewTask, TaskQueueDriver } from './task-queue.driver.js';

// Captured at load, before any test installs fake timers.
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

interface MemoryDriverOptions {
  queueName: string;
  concurrency: number;
  dedupWindowMs: number;
  retention: ResolvedRetention;
}

/**
 * @internal In-process driver with BullMQ's semantics: tasks without priority first in first out, then prioritized
 * ones (lower first); delays and retry backoff on timers (so fake timers drive them); dead tasks kept. Dispatch is
 * O(1) and batched in a microtask, never on a timer.
 */
export class MemoryTaskQueueDriver extends TaskQueueDriver {
  readonly kind = 'memory';
  readonly events: TaskEvents;
  private readonly logger = new Logger('TaskQueue');
  /** Every task still known, by sequence number. */
  private readonly tasks = new MemoryTaskIndex<MemoryTask>();
  private readonly ready = new TaskDeque<MemoryTask>();
  private prioritized: TaskHeap<MemoryTask> | undefined;
  private readonly delayed = new Set<MemoryTask>();
  private readonly finished: MemoryRetention<MemoryTask>;
  // An occurrence is added, not enqueued: it emits no `enqueued`, as on BullMQ (the scheduler adds it there).
  private readonly schedules = new MemorySchedules((entry) => {
    if (this.stopped) return;
    this.add(entry.task, Date.now());
    this.schedulePump();
  });
  private readonly dedup = new Map<string, { id: string; name: string; expiresAt: number }>();
  /** Rate-limited handlers' windows, by task name. */
  private readonly rateWindows = new Map<string, RateWindow>();
  /** Each group's last fair-sharing priority (see fairPriority). */
  private readonly groups = new Map<string, number>();
  private highestGroupPriority = 0;
  private handlers: ReadonlyMap<string, RegisteredTaskHandler> = new Map();
  private seq = 0;
  private active = 0;
  private running = false;
  /** Set by drain/close: later enqueues are refused, as nothing would ever run them. */
  private stopped = false;
  private pumping = false;
  private pumpScheduled = false;
  /** Set once the event has a listener (emit checks again), so that a dispatch without listeners calls nothing. */
  private emitsActive = false;
  private emitsCompleted = false;
  private idleWaiters: (() => void)[] = [];
  private onDrained: (() => void) | undefined;
  private readonly pumpTask = () => {
    this.pumpScheduled = false;
    this.pump();
  };

  constructor(
    private readonly runner: TaskRunner,
    private readonly options: MemoryDriverOptions,
  ) {
    super();
    this.events = new TaskEvents(options.queueName);
    this.events.whenListened((event) => {
      if (event === 'active') this.emitsActive = true;
      else if (event === 'completed') this.emitsCompleted = true;
    });
    this.finished = new MemoryRetention(options.retention, (task) => this.tasks.delete(task.seq));
  }

  async start(handlers: ReadonlyMap<string, RegisteredTaskHandler>): Promise<void> {
    this.handlers = handlers;
    this.running = true;
    this.schedulePump();
  }

  async schedule(schedules: readonly ScheduledNewTask[]): Promise<void> {
    this.schedules.start(schedules);
  }

  async enqueue(tasks: readonly NewTask[]): Promise<TaskRef[]> {
    if (this.stopped) {
      throw new TaskEnqueueError(
        tasks.map((t) => t.name),
        undefined,
        'shut-down',
      );
    }
    const now = Date.now();
    const refs = tasks.map((t) => this.announce(this.add(t, now)));
    this.schedulePump();
    return refs;
  }

  override enqueueOne(task: NewTask): Promise<TaskRef> {
    if (this.stopped) return Promise.reject(new TaskEnqueueError([task.name], undefined, 'shut-down'));
    return Promise.resolve(this.addOne(task));
  }

  /** `enqueueOne`'s work, done synchronously (the telemetry times it): the ref, or throws after shutdown. */
  override readonly addOne = (task: NewTask): TaskRef => {
    if (this.stopped) throw new TaskEnqueueError([task.name], undefined, 'shut-down');
    const ref = this.announce(this.add(task, Date.now()));
    this.schedulePump();
    return ref;
  };

  /** `enqueued` goes out before the pump can start the task, so a listener never hears `active` first. */
  private announce(ref: TaskRef): TaskRef {
    if (this.events.has('enqueued')) this.events.emit('enqueued', ref.id, ref.name, undefined);
    return ref;
  }

  async getTask(id: string): Promise<TaskInfo | undefined> {
    const task = this.tasks.get(Number(id));
    return task && info(task);
  }

  async listDead(offset: number, limit: number): Promise<TaskInfo[]> {
    return this.finished
      .allDead()
      .toReversed()
      .slice(offset, offset + limit)
      .map(info);
  }

  async retryDead(ids: readonly string[] | 'all'): Promise<number> {
    // A Set: an id given twice is one task, retried once.
    const chosen = (ids === 'all' ? this.finished.allDead().map((t) => t.id) : [...new Set(ids)])
      .map((id) => this.finished.takeDead(id))
      .filter((t) => t !== undefined);
    for (const task of chosen) {
      task.failures = 0;
      task.progress = undefined;
      task.error = undefined;
      task.finishedAt = undefined;
      this.makeReady(task);
    }
    this.schedulePump();
    return chosen.length;
  }

  /** O(1) for tasks without priority (the deque is FIFO); a scan of the prioritized ones (a probe, not a hot path). */
  async oldestWaitingAt(): Promise<number | undefined> {
    let oldest = this.ready.peek()?.readyAt;
    for (const task of this.prioritized?.values() ?? []) {
      if (oldest === undefined || task.readyAt < oldest) oldest = task.readyAt;
    }
    return oldest;
  }

  async stats(): Promise<Omit<TaskQueueStats, 'processed' | 'failedAttempts' | 'durations'>> {
    return {
      driver: 'memory',
      waiting: this.waitingCount(),
      active: this.active,
      delayed: this.delayed.size,
      failed: this.finished.deadCount,
      completed: this.finished.completedCount,
    };
  }

  waitUntilIdle(timeoutMs?: number): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      let timer: ReturnType<typeof setTimeout> | undefined;
      const done = () => {
        if (timer !== undefined) clearTimeout(timer);
        resolve();
      };
      this.idleWaiters.push(done);
      if (timeoutMs !== undefined) {
        timer = setTimeout(() => {
          this.idleWaiters = this.idleWaiters.filter((w) => w !== done);
          reject(new Error(`The task queue was not idle after ${timeoutMs} ms: ${this.describeBusy()}.`));
        }, timeoutMs);
      }
    });
  }

  async drain(deadlineMs: number): Promise<void> {
    this.schedules.stop();
    this.running = false;
    this.stopped = true;
    if (this.active > 0) {
      await new Promise<void>((resolve) => {
        // The deadline runs on the real clock: a test that closes its app under fake timers must not hang.
        const timer = realSetTimeout(finish, deadlineMs);
        this.onDrained = finish;
        function finish() {
          realClearTimeout(timer);
          resolve();
        }
      });
      this.onDrained = undefined;
    }
    const aborted = this.runner.abortAll((run) => new TaskAbortedError(run.name, deadlineMs));
    const waiting = this.waitingCount();
    if (waiting > 0 || this.delayed.size > 0 || aborted.length > 0) {
      this.logger.warn(TASKS_DISCARDED_AT_SHUTDOWN(waiting, this.delayed.size, aborted));
    }
  }

  async close(): Promise<void> {
    this.schedules.stop();
    this.running = false;
    this.stopped = true;
    for (const task of this.delayed) clearTimeout(task.timer);
    this.delayed.clear();
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  /** @internal Outcome of one attempt (called by the runner through `MemoryRun.settle`). */
  settled(task: MemoryTask, error: unknown, result: unknown, failed: boolean): void {
    this.active--;
    const attempt = task.failures + 1;
    if (!failed) {
      task.state = 'completed';
      task.result = result;
      task.finishedAt = Date.now();
      this.finished.complete(task, task.finishedAt);
      if (this.emitsCompleted) this.events.emit('completed', task.id, task.name, attempt, result);
    } else {
      task.error = toTaskErrorInfo(error);
      // An attempt aborted at shutdown is not retried: nothing would run it.
      const aborted = error instanceof TaskAbortedError;
      if (!aborted) task.failures++;
      this.events.emit('failed', task.id, task.name, attempt, error);
      if (aborted || NonRetryableError.is(error) || task.failures >= task.attempts) {
        this.bury(task);
        this.events.emit('dead', task.id, task.name, attempt, error);
      } else {
        const delayMs = backoffDelay(task.backoff, task.failures);
        this.delay(task, delayMs);
        this.events.emit('retrying', task.id, task.name, attempt, error, delayMs);
      }
    }
    this.pump();
    if (this.active === 0) this.onDrained?.();
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private add(t: NewTask, now: number): TaskRef {
    if (t.dedupKey !== undefined) {
      const seen = this.dedup.get(t.dedupKey);
      if (seen !== undefined && seen.expiresAt > now) return { id: seen.id, name: seen.name };
    }
    const seq = ++this.seq;
    const priority = t.group === undefined ? t.priority : this.groupPriority(t.group);
    const task = new MemoryTask(seq, t.name, t.payload, priority, t.attempts, t.backoff, now);
    if (t.trace !== undefined) task.trace = t.trace;
    this.tasks.add(task);
    if (t.dedupKey !== undefined) this.remember(t.dedupKey, task, now);
    if (t.delayMs > 0) this.delay(task, t.delayMs);
    else this.makeReady(task, now);
    return { id: String(seq), name: t.name };
  }

  private pump(): void {
    if (this.pumping || !this.running) return;
    this.pumping = true;
    try {
      while (this.active < this.options.concurrency) {
        const task = this.ready.shift() ?? this.prioritized?.pop();
        if (task === undefined) break;
        const handler = this.handlers.get(task.name);
        if (handler?.rateLimit !== undefined) {
          // Over the limit: wait for the next window, delayed, without using an attempt.
          const waitMs = this.rateWindow(handler.name, handler.rateLimit).waitMs(Date.now());
          if (waitMs > 0) {
            this.delay(task, waitMs);
            continue;
          }
        }
        this.active++;
        task.state = 'active';
        const run = new MemoryRun(task, this);
        if (this.emitsActive) this.events.emit('active', run.id, task.name, run.attempt);
        if (handler === undefined) run.settle(new NonRetryableError(NO_HANDLER_ON_WORKER(task.name)), undefined, true);
        else this.runner.execute(handler, run);
      }
    } finally {
      this.pumping = false;
    }
  }

  private schedulePump(): void {
    if (this.pumpScheduled || !this.running) return;
    this.pumpScheduled = true;
    queueMicrotask(this.pumpTask);
  }

  private makeReady(task: MemoryTask, now = Date.now()): void {
    task.state = 'waiting';
    task.readyAt = now;
    if (task.priority === 0) {
      this.ready.push(task);
    } else {
      this.prioritized ??= new TaskHeap(
        (a, b) => a.priority < b.priority || (a.priority === b.priority && a.seq < b.seq),
      );
      this.prioritized.push(task);
    }
  }

  private delay(task: MemoryTask, ms: number): void {
    task.state = 'delayed';
    this.delayed.add(task);
    this.armDelay(task, ms);
  }

  /**
   * Node fires a timer above MAX_TIMER_MS after ~1 ms, so a longer delay waits in steps. The steps count timer
   * time, not wall-clock time, so a clock change moves no task.
   */
  private armDelay(task: MemoryTask, ms: number): void {
    const step = Math.min(ms, MAX_TIMER_MS);
    task.timer = setTimeout(() => {
      task.timer = undefined;
      if (ms > step) return this.armDelay(task, ms - step);
      this.delayed.delete(task);
      this.makeReady(task);
      this.pump();
    }, step);
  }

  private bury(task: MemoryTask): void {
    task.state = 'failed';
    task.finishedAt = Date.now();
    this.finished.bury(task, task.finishedAt);
  }

  private remember(dedupKey: string, task: MemoryTask, now: number): void {
    // Re-inserted so that Map order stays expiry order (every entry lives one window): expired entries are then
    // always at the front, and each insert drops them, so the map holds only what the window can hold.
    this.dedup.delete(dedupKey);
    this.dedup.set(dedupKey, { id: task.id, name: task.name, expiresAt: now + this.options.dedupWindowMs });
    for (const [key, seen] of this.dedup) {
      if (seen.expiresAt > now) break;
      this.dedup.delete(key);
    }
  }

  private rateWindow(name: string, limit: { max: number; perMs: number }): RateWindow {
    let window = this.rateWindows.get(name);
    if (window === undefined) this.rateWindows.set(name, (window = new RateWindow(limit)));
    return window;
  }

  private groupPriority(group: string): number {
    const lowest = this.prioritized?.peek()?.priority;
    const priority = fairPriority(this.groups.get(group), lowest, this.highestGroupPriority);
    this.groups.set(group, priority);
    this.highestGroupPriority = Math.max(this.highestGroupPriority, priority);
    return priority;
  }

  private waitingCount(): number {
    return this.ready.length + (this.prioritized?.length ?? 0);
  }

  private isIdle(): boolean {
    return this.active === 0 && this.delayed.size === 0 && this.waitingCount() === 0;
  }

  private describeBusy(): string {
    return (
      `${this.waitingCount()} waiting, ${this.delayed.size} delayed, ${this.active} active` +
      (this.running ? '' : ' (workers are not running on this instance)')
    );
  }
}
