import {
  type Attributes,
  context,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { NewTask, TaskQueueDriver } from '../drivers/task-queue.driver.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { RegisteredTaskHandler, TaskRun } from '../task-runner.js';
import { QueueInstruments } from './queue-instruments.js';
import type { TaskSeriesMap } from './task-series.js';
import { BatchSpan, fail, injectCarrier, producerContext, producerLinks, RunSpan } from './task-spans.js';
import {
  ATTR_ATTEMPT,
  ATTR_BATCH_COUNT,
  ATTR_DESTINATION,
  ATTR_MESSAGE_ID,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  ATTR_SYSTEM,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  SYSTEM,
  TRACER_LOOKUP_EVERY,
} from './telemetry-names.js';

/**
 * @internal One queue's OpenTelemetry metrics and spans, through `@opentelemetry/api` only: no-ops until the
 * application registers an SDK. Counting a task is a field increment (the counters are observable, see
 * QueueInstruments); the two histograms record one point per enqueue call and per attempt, with attributes built
 * once per task name. The meter is taken at construction (register the SDK before the application is created) and
 * without it nothing is timed; the tracer provider is looked up on the first enqueue or run and every
 * TRACER_LOOKUP_EVERY after, and without one no span work is done and nothing is stored with a task.
 */
export class TaskQueueTelemetry {
  /** False when no MeterProvider was registered at construction: nothing is counted or timed. */
  readonly metering: boolean;
  private readonly instruments: QueueInstruments;
  private readonly series: TaskSeriesMap;
  private readonly sendName: string;
  private readonly processName: string;
  private readonly batchSendAttributes: Attributes;
  private tracerDelegate: TracerProvider | undefined;
  private tracer: Tracer | undefined;
  /** Calls since the tracer provider was last looked up (the first call looks it up). */
  private sinceLookup = TRACER_LOOKUP_EVERY;

  constructor(queue: string) {
    this.instruments = new QueueInstruments(queue);
    this.metering = this.instruments.metering;
    this.series = this.instruments.series;
    this.sendName = `send ${queue}`;
    this.processName = `process ${queue}`;
    // Several task names may share an enqueueMany: its span names none.
    this.batchSendAttributes = {
      [ATTR_SYSTEM]: SYSTEM,
      [ATTR_DESTINATION]: queue,
      [ATTR_OPERATION_NAME]: 'send',
      [ATTR_OPERATION_TYPE]: 'send',
    };
  }

  /** Counts retries and dead tasks from the driver's events, and reports its counts as the depth gauge. */
  watch(driver: TaskQueueDriver): void {
    this.instruments.watch(driver);
  }

  /** Whether an enqueue has anything to record: a MeterProvider at construction, or a tracer provider now. */
  recordsEnqueue(): boolean {
    return this.metering || this.tracing();
  }

  /**
   * Runs `add` (the driver storing `tasks`) inside a PRODUCER span `send <queue>` whose context each task carries,
   * and records the enqueue metrics when it settles. `synchronous`: the driver's work is done when `add` returns
   * (the memory driver), so that is when the clock stops, not when a caller's loop lets the promise settle.
   */
  send<T extends TaskRef | TaskRef[]>(
    tasks: readonly NewTask[],
    add: () => Promise<T>,
    synchronous: boolean,
  ): Promise<T> {
    const span = this.startSend(tasks);
    const start = this.metering ? performance.now() : 0;
    let added: Promise<T>;
    try {
      added = add();
    } catch (error) {
      added = Promise.reject(error);
    }
    const end = synchronous ? performance.now() : undefined;
    return added.then(
      (refs) => {
        if (span !== undefined && !Array.isArray(refs)) span.setAttribute(ATTR_MESSAGE_ID, (refs as TaskRef).id);
        this.sendDone(tasks, span, start, end, false, undefined);
        return refs;
      },
      (error: unknown) => {
        this.sendDone(tasks, span, start, end, true, error);
        throw error;
      },
    );
  }

  /**
   * `send` for one task and a driver that adds it synchronously (the memory driver): everything is recorded before
   * it returns, so a caller's loop of enqueues leaves no pending reaction per task behind (100k of them, kept until
   * the loop yields, cost more garbage collection than the recording itself).
   */
  sendNow(task: NewTask, add: (task: NewTask) => TaskRef): TaskRef {
    const tasks = [task];
    const span = this.startSend(tasks);
    const start = this.metering ? performance.now() : 0;
    let ref: TaskRef;
    try {
      ref = add(task);
    } catch (error) {
      this.sendDone(tasks, span, start, performance.now(), true, error);
      throw error;
    }
    span?.setAttribute(ATTR_MESSAGE_ID, ref.id);
    this.sendDone(tasks, span, start, performance.now(), false, undefined);
    return ref;
  }

  /** The PRODUCER span of an enqueue call, its context stored with each task; undefined when not tracing. */
  private startSend(tasks: readonly NewTask[]): Span | undefined {
    const tracer = this.activeTracer();
    if (tracer === undefined) return undefined;
    const one = tasks.length === 1;
    const span = tracer.startSpan(this.sendName, {
      kind: SpanKind.PRODUCER,
      attributes: one ? this.series.of(tasks[0].name).sendSpan : this.batchSendAttributes,
    });
    if (!one) span.setAttribute(ATTR_BATCH_COUNT, tasks.length);
    const carrier = injectCarrier(span);
    if (carrier !== undefined) for (const task of tasks) task.trace = carrier;
    return span;
  }

  /** A worker took an attempt of task `name` (counted whether it starts now or waits at its handler's gate). */
  taken(name: string): void {
    if (this.metering) this.series.of(name).consumed++;
  }

  /**
   * Whether a tracer provider is registered. The runner asks before each attempt and calls `invoke` /
   * `invokeBatch` only when it is, so an untraced attempt makes no other call into this object.
   */
  tracing(): boolean {
    return this.activeTracer() !== undefined;
  }

  /** Calls the handler inside a CONSUMER span `process <queue>` under the producer's context (while `tracing()`). */
  invoke(handler: RegisteredTaskHandler, run: TaskRun): unknown {
    const parent = producerContext(run.traceCarrier());
    const span = (this.tracer as Tracer).startSpan(
      this.processName,
      { kind: SpanKind.CONSUMER, attributes: this.series.of(run.name).processSpan },
      parent,
    );
    span.setAttribute(ATTR_MESSAGE_ID, run.id);
    span.setAttribute(ATTR_ATTEMPT, run.attempt);
    run.trace = new RunSpan(span);
    return context.with(trace.setSpan(parent, span), handler.invoke, undefined, run.payload, run);
  }

  /** Calls a batch handler inside one CONSUMER span linked to each attempt's producer (while `tracing()`). */
  invokeBatch(handler: RegisteredTaskHandler, runs: TaskRun[]): unknown {
    const invoke = handler.invoke as (tasks: TaskRun[]) => unknown;
    const span = (this.tracer as Tracer).startSpan(
      this.processName,
      { kind: SpanKind.CONSUMER, attributes: this.series.of(handler.name).processSpan, links: producerLinks(runs) },
      ROOT_CONTEXT,
    );
    span.setAttribute(ATTR_BATCH_COUNT, runs.length);
    const batch = new BatchSpan(span, runs.length);
    for (const run of runs) run.trace = batch;
    return context.with(trace.setSpan(ROOT_CONTEXT, span), invoke, undefined, runs);
  }

  /** A started attempt settled after running `ms`. */
  finished(run: TaskRun, ms: number, error: unknown, failed: boolean): void {
    const runTrace = run.trace;
    if (runTrace !== undefined) {
      run.trace = undefined;
      runTrace.done(error, failed);
    }
    if (!this.metering) return;
    const series = this.series.of(run.name);
    this.instruments.processDuration.record(ms / 1_000, failed ? series.failureAttributes(error) : series.attributes);
  }

  /** Stops reporting (a closed queue must not keep its collection callbacks alive). */
  close(): void {
    this.instruments.close();
  }

  private sendDone(
    tasks: readonly NewTask[],
    span: Span | undefined,
    start: number,
    end: number | undefined,
    failed: boolean,
    error: unknown,
  ): void {
    if (span !== undefined) {
      if (failed) fail(span, error);
      span.end(end);
    }
    if (!this.metering) return;
    const seconds = ((end ?? performance.now()) - start) / 1_000;
    if (tasks.length === 1) return this.sendCounted(tasks[0].name, seconds, failed, error, true);
    // One count per task, one duration point per task name of the call.
    const names = new Set<string>();
    for (const task of tasks) {
      this.sendCounted(task.name, seconds, failed, error, !names.has(task.name));
      names.add(task.name);
    }
  }

  private sendCounted(name: string, seconds: number, failed: boolean, error: unknown, timed: boolean): void {
    const series = this.series.of(name);
    if (failed) series.sendFailed(error);
    else series.sent++;
    if (timed)
      this.instruments.operationDuration.record(seconds, failed ? series.failureAttributes(error) : series.attributes);
  }

  /**
   * The SDK's tracer, or undefined while no tracer provider is registered. The global lookup is a symbol-keyed read
   * of the global object, which measured a few per cent of a no-op task when done twice per task, so it is redone
   * only every TRACER_LOOKUP_EVERY calls: a tracer provider registered (or removed) later is seen within that many
   * enqueues and runs of the queue.
   */
  private activeTracer(): Tracer | undefined {
    if (++this.sinceLookup < TRACER_LOOKUP_EVERY) return this.tracer;
    this.sinceLookup = 0;
    const provider = trace.getTracerProvider();
    if (!(provider instanceof ProxyTracerProvider))
      return (this.tracer = provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION));
    const delegate = provider.getDelegate();
    if (delegate !== this.tracerDelegate) {
      this.tracerDelegate = delegate;
      this.tracer = provider.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    }
    return this.tracer;
  }
}
