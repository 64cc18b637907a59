import { TaskTimeoutError } from './errors/task-timeout.error.js';
import type { TaskBackoffOptions } from './interfaces/task-backoff-options.interface.js';
import type { TaskContext } from './interfaces/task-context.interface.js';
import type { TaskDurationStats } from './interfaces/task-queue-stats.interface.js';
import type { TaskQueueTelemetry } from './telemetry/task-queue-telemetry.js';
import type { RunTrace } from './telemetry/task-spans.js';
import { TaskDeque } from './task-deque.js';
import { argument } from './task-queue.options.js';

/** @internal A discovered `@TaskHandler`, with its options resolved and its per-instance concurrency gate. */
export class RegisteredTaskHandler {
  /** Attempts running now; for a batch handler, batches running now. */
  active = 0;
  readonly parked = new TaskDeque<TaskRun>();
  /** Batch handlers: attempts collected for the next batch, and the timer that flushes it. */
  pending: TaskRun[] = [];
  flushTimer: ReturnType<typeof setTimeout> | undefined;
  /** Set when the collecting batch waited `maxWaitMs` and must go as soon as a batch slot frees up. */
  flushDue = false;

  constructor(
    readonly name: string,
    /** `Class.method`, for messages. */
    readonly where: string,
    readonly invoke: (payload: unknown, context: TaskContext) => unknown,
    readonly concurrency: number,
    readonly attempts: number | undefined,
    readonly backoff: Required<TaskBackoffOptions> | undefined,
    readonly timeoutMs: number | undefined,
    /** Set for a batch handler: it receives up to `maxSize` attempts at once. */
    readonly batch?: { maxSize: number; maxWaitMs: number },
    /** Set for a rate-limited handler; the driver checks it before a run starts. */
    readonly rateLimit?: { max: number; perMs: number },
  ) {}
}

/** @internal The attempts of one batch call, and how many have not settled yet. */
class RunningBatch {
  remaining: number;
  timer: ReturnType<typeof setTimeout> | undefined;

  constructor(readonly runs: TaskRun[]) {
    this.remaining = runs.length;
  }
}

/**
 * @internal One attempt of one task. It is also the `context` handed to the handler; its signal is created only
 * when the handler reads it, so attempts that never look at it cost no AbortController.
 */
export abstract class TaskRun implements TaskContext {
  /** Set once the attempt has an outcome; later outcomes (a handler finishing after its timeout) are ignored. */
  done = false;
  started = false;
  startedAt = 0;
  timer: ReturnType<typeof setTimeout> | undefined;
  handler: RegisteredTaskHandler | undefined;
  /** The batch this attempt runs in (batch handlers only). */
  batch: RunningBatch | undefined;
  /** Links in the runner's list of attempts in flight (intrusive: no hashing on the hot path). */
  prev: TaskRun | undefined;
  next: TaskRun | undefined;
  /** The attempt's span, while tracing. */
  trace: RunTrace | undefined;
  private controller: AbortController | undefined;
  private abortReason: unknown;

  constructor(
    readonly id: string,
    readonly name: string,
    readonly attempt: number,
    readonly payload: unknown,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.abortReason !== undefined) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  progress(value: number | object): Promise<void> {
    let checked: number | object;
    try {
      checked = argument.progress(value);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.reportProgress(checked);
  }

  log(line: string): Promise<void> {
    let checked: string;
    try {
      checked = argument.logLine(line);
    } catch (error) {
      return Promise.reject(error);
    }
    return this.appendLog(checked);
  }

  /** Stores the (checked, copied) progress and emits the `progress` event. */
  protected abstract reportProgress(value: number | object): Promise<void>;

  protected abstract appendLog(line: string): Promise<void>;

  abort(reason: unknown): void {
    if (this.abortReason !== undefined) return;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }

  /** Called exactly once with the attempt's outcome. */
  abstract settle(error: unknown, result: unknown, failed: boolean): void;

  /** The trace context stored with the task by its producer (read only while tracing; may be malformed). */
  traceCarrier(): unknown {
    return undefined;
  }
}

const DURATION_WINDOW = 1024;

/**
 * @internal Runs attempts through their handler: per-handler concurrency gate, per-attempt timeout, duration
 * statistics. Both drivers use it, so handler semantics are identical whatever the queue behind them.
 */
export class TaskRunner {
  /** Attempts handed to `execute` and not yet settled (started or waiting at their handler's gate). */
  private head: TaskRun | undefined;
  processed = 0;
  failedAttempts = 0;
  private readonly durations = new Float64Array(DURATION_WINDOW);
  /** The telemetry's flag, read here so that an unobserved queue makes no call into it per attempt. */
  private readonly metering: boolean;
  private durationCount = 0;
  /**
   * The clock read by the finish now settling its run, or -1. The driver often starts the next run inside that
   * settle, with only bookkeeping in between: the first such start takes this time instead of reading the clock
   * again (one native call less per run). Later starts read the clock, as a synchronous handler may have run.
   */
  private settledAt = -1;

  constructor(
    private readonly defaultTimeoutMs: number | undefined,
    readonly telemetry: TaskQueueTelemetry,
  ) {
    this.metering = telemetry.metering;
  }

  execute(handler: RegisteredTaskHandler, run: TaskRun): void {
    if (this.metering) this.telemetry.taken(run.name);
    run.handler = handler;
    run.next = this.head;
    if (this.head !== undefined) this.head.prev = run;
    this.head = run;
    if (handler.batch !== undefined) this.collect(handler, run, handler.batch);
    else if (handler.active < handler.concurrency) this.start(handler, run);
    else handler.parked.push(run);
  }

  /** Adds an attempt to its handler's next batch, which goes when full or `maxWaitMs` after its first attempt. */
  private collect(handler: RegisteredTaskHandler, run: TaskRun, batch: { maxSize: number; maxWaitMs: number }): void {
    handler.pending.push(run);
    if (handler.pending.length >= batch.maxSize || handler.flushDue) this.flush(handler);
    else if (handler.flushTimer === undefined) {
      handler.flushTimer = setTimeout(() => {
        handler.flushTimer = undefined;
        handler.flushDue = true;
        this.flush(handler);
      }, batch.maxWaitMs);
    }
  }

  /** Starts the collected batch when a batch slot is free (else the next finishing batch calls this again). */
  private flush(handler: RegisteredTaskHandler): void {
    const { maxSize } = handler.batch as { maxSize: number };
    while (
      handler.active < handler.concurrency &&
      handler.pending.length > 0 &&
      (handler.flushDue || handler.pending.length >= maxSize)
    ) {
      const runs = handler.pending.splice(0, maxSize);
      if (handler.pending.length === 0) {
        handler.flushDue = false;
        clearTimeout(handler.flushTimer);
        handler.flushTimer = undefined;
      }
      this.startBatch(handler, runs);
    }
  }

  /**
   * One call with every attempt of the batch. The handler returns nothing (all succeeded), an array aligned with
   * its input where an `Error` fails that attempt alone (so only it is retried), or throws (all failed).
   */
  private startBatch(handler: RegisteredTaskHandler, runs: TaskRun[]): void {
    handler.active++;
    const batch = new RunningBatch(runs);
    const now = performance.now();
    for (const run of runs) {
      run.started = true;
      run.startedAt = now;
      run.batch = batch;
    }
    const timeoutMs = handler.timeoutMs ?? this.defaultTimeoutMs;
    if (timeoutMs !== undefined) {
      batch.timer = setTimeout(() => {
        for (const run of runs) {
          const error = new TaskTimeoutError(run.name, timeoutMs);
          run.abort(error);
          this.finish(run, error, undefined, true);
        }
      }, timeoutMs);
    }
    const settleAll = (returned: unknown) => {
      for (let i = 0; i < runs.length; i++) {
        const outcome = Array.isArray(returned) ? returned[i] : returned;
        if (outcome instanceof Error) this.finish(runs[i], outcome, undefined, true);
        else this.finish(runs[i], undefined, outcome, false);
      }
    };
    const failAll = (error: unknown) => {
      for (const run of runs) this.finish(run, error, undefined, true);
    };
    let returned: unknown;
    try {
      returned = this.telemetry.tracing()
        ? this.telemetry.invokeBatch(handler, runs)
        : (handler.invoke as (tasks: TaskRun[]) => unknown)(runs);
    } catch (error) {
      failAll(error);
      return;
    }
    if (returned !== null && typeof (returned as PromiseLike<unknown>)?.then === 'function') {
      (returned as PromiseLike<unknown>).then(settleAll, failAll);
    } else {
      settleAll(returned);
    }
  }

  /** A batch attempt settled: the batch's slot frees once all of its attempts have. */
  private batchRunDone(handler: RegisteredTaskHandler, run: TaskRun): void {
    const batch = run.batch as RunningBatch;
    run.batch = undefined;
    if (--batch.remaining > 0) return;
    if (batch.timer !== undefined) clearTimeout(batch.timer);
    handler.active--;
    this.flush(handler);
  }

  /** Aborts every attempt in flight, settling each as failed with `reason(run)`. Returns their task ids. */
  abortAll(reason: (run: TaskRun) => unknown): string[] {
    const ids: string[] = [];
    const runs: TaskRun[] = [];
    for (let run = this.head; run !== undefined; run = run.next) runs.push(run);
    for (const run of runs) {
      const error = reason(run);
      ids.push(run.id);
      run.abort(error);
      this.finish(run, error, undefined, true);
    }
    return ids;
  }

  durationStats(): TaskDurationStats {
    const n = Math.min(this.durationCount, DURATION_WINDOW);
    if (n === 0) return { count: 0, meanMs: 0, p50Ms: 0, p95Ms: 0, p99Ms: 0, maxMs: 0 };
    const sorted = this.durations.subarray(0, n).toSorted();
    let sum = 0;
    for (let i = 0; i < n; i++) sum += sorted[i];
    const at = (p: number) => sorted[Math.min(n - 1, Math.floor(p * n))];
    return {
      count: this.durationCount,
      meanMs: sum / n,
      p50Ms: at(0.5),
      p95Ms: at(0.95),
      p99Ms: at(0.99),
      maxMs: sorted[n - 1],
    };
  }

  private start(handler: RegisteredTaskHandler, run: TaskRun): void {
    handler.active++;
    run.started = true;
    if (this.settledAt >= 0) {
      run.startedAt = this.settledAt;
      this.settledAt = -1;
    } else {
      run.startedAt = performance.now();
    }
    const timeoutMs = handler.timeoutMs ?? this.defaultTimeoutMs;
    if (timeoutMs !== undefined) {
      run.timer = setTimeout(() => {
        const error = new TaskTimeoutError(run.name, timeoutMs);
        run.abort(error);
        this.finish(run, error, undefined, true);
      }, timeoutMs);
    }
    let returned: unknown;
    try {
      returned = this.telemetry.tracing() ? this.telemetry.invoke(handler, run) : handler.invoke(run.payload, run);
    } catch (error) {
      this.finish(run, error, undefined, true);
      return;
    }
    if (returned !== null && typeof (returned as PromiseLike<unknown>)?.then === 'function') {
      (returned as PromiseLike<unknown>).then(
        (result) => this.finish(run, undefined, result, false),
        (error: unknown) => this.finish(run, error, undefined, true),
      );
    } else {
      this.finish(run, undefined, returned, false);
    }
  }

  private finish(run: TaskRun, error: unknown, result: unknown, failed: boolean): void {
    if (run.done) return;
    run.done = true;
    if (run.prev !== undefined) run.prev.next = run.next;
    else this.head = run.next;
    if (run.next !== undefined) run.next.prev = run.prev;
    run.prev = run.next = undefined;
    const handler = run.handler as RegisteredTaskHandler;
    if (handler.batch !== undefined) {
      if (run.started) {
        const ms = performance.now() - run.startedAt;
        this.durations[this.durationCount++ & (DURATION_WINDOW - 1)] = ms;
        if (this.metering || run.trace !== undefined) this.telemetry.finished(run, ms, error, failed);
        this.batchRunDone(handler, run);
      } else {
        handler.pending.splice(handler.pending.indexOf(run), 1);
        if (handler.pending.length === 0) {
          handler.flushDue = false;
          clearTimeout(handler.flushTimer);
          handler.flushTimer = undefined;
        }
      }
      if (failed) this.failedAttempts++;
      else this.processed++;
      run.settle(error, result, failed);
      return;
    }
    let now = -1;
    if (run.started) {
      if (run.timer !== undefined) clearTimeout(run.timer);
      handler.active--;
      now = performance.now();
      const ms = now - run.startedAt;
      this.durations[this.durationCount++ & (DURATION_WINDOW - 1)] = ms;
      if (this.metering || run.trace !== undefined) this.telemetry.finished(run, ms, error, failed);
    } else {
      handler.parked.remove(run);
    }
    if (failed) this.failedAttempts++;
    else this.processed++;
    this.settledAt = now;
    try {
      // The freed slot goes to the oldest parked run before `settle` lets the driver dispatch more: otherwise a
      // newer task of the same handler takes the slot and the parked one waits (FIFO broken, starvation).
      if (handler.parked.length > 0 && handler.active < handler.concurrency) {
        this.start(handler, handler.parked.shift() as TaskRun);
      }
      run.settle(error, result, failed);
    } finally {
      this.settledAt = -1;
    }
  }
}
