import {
  type Attributes,
  type BatchObservableCallback,
  context,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics,
  type Observable,
  type ObservableCallback,
  type ObservableGauge,
  ProxyTracerProvider,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  trace,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import { withTimeout } from '../drivers/bullmq-connection.js';
import type { NewTask, TaskQueueDriver } from '../drivers/task-queue.driver.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { RegisteredTaskHandler, TaskRun } from '../task-runner.js';
import { TaskSeriesMap } from './task-series.js';
import { BatchSpan, fail, injectCarrier, producerContext, producerLinks, RunSpan } from './task-spans.js';
import {
  ATTR_ATTEMPT,
  ATTR_BATCH_COUNT,
  ATTR_DESTINATION,
  ATTR_MESSAGE_ID,
  ATTR_OPERATION_NAME,
  ATTR_OPERATION_TYPE,
  ATTR_STATE,
  ATTR_SYSTEM,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  METRIC_CONSUMED_MESSAGES,
  METRIC_DEAD_TASKS,
  METRIC_OPERATION_DURATION,
  METRIC_PROCESS_DURATION,
  METRIC_QUEUE_TASKS,
  METRIC_RETRIES,
  METRIC_SENT_MESSAGES,
  OPERATION_BUCKETS_S,
  PROCESS_BUCKETS_S,
  QUEUE_DEPTH_TIMEOUT_MS,
  SYSTEM,
} from './telemetry-names.js';

/** The gauge's states, and the field of the driver's counts each reads (`dead` is the counts' `failed`). */
const DEPTH_STATES = [
  ['waiting', 'waiting'],
  ['active', 'active'],
  ['delayed', 'delayed'],
  ['dead', 'failed'],
  ['completed', 'completed'],
] as const;

/**
 * @internal One queue's OpenTelemetry instruments and spans, through `@opentelemetry/api` only: no-ops until the
 * application registers an SDK. The four counters are observable, over plain fields counted per task name, so a
 * task costs no SDK call for them; the two histograms record one point per enqueue call and per handler run with
 * attributes built once per task name. The meter is taken at construction (register the SDK before the
 * application is created) and without it nothing is timed; the tracer is looked up per enqueue and per run, and
 * without a tracer provider no span work is done.
 */
export class TaskQueueTelemetry {
  /** False when no MeterProvider was registered at construction: nothing is counted or timed. */
  readonly metering: boolean;
  private readonly meter: Meter;
  private readonly series: TaskSeriesMap;
  private readonly operationDuration: Histogram;
  private readonly processDuration: Histogram;
  private readonly counters: Observable[];
  private readonly observeCounters: BatchObservableCallback;
  private readonly depth: ObservableGauge;
  private observeDepth: ObservableCallback | undefined;
  private readonly sendName: string;
  private readonly processName: string;
  private readonly batchSendAttributes: Attributes;
  private tracerDelegate: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(private readonly queue: string) {
    this.series = new TaskSeriesMap(queue);
    this.sendName = `send ${queue}`;
    this.processName = `process ${queue}`;
    // Several task names may share an enqueueMany: its span names none.
    this.batchSendAttributes = {
      [ATTR_SYSTEM]: SYSTEM,
      [ATTR_DESTINATION]: queue,
      [ATTR_OPERATION_NAME]: 'send',
      [ATTR_OPERATION_TYPE]: 'send',
    };
    const meter = (this.meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION));
    // Without a registered MeterProvider the API hands out its no-op meter.
    this.metering = meter.constructor !== createNoopMeter().constructor;
    this.operationDuration = meter.createHistogram(METRIC_OPERATION_DURATION, {
      description: 'Duration of enqueue calls (enqueue, enqueueMany); error.type is set when the call failed.',
      unit: 's',
      advice: { explicitBucketBoundaries: OPERATION_BUCKETS_S },
    });
    this.processDuration = meter.createHistogram(METRIC_PROCESS_DURATION, {
      description: 'Duration of handler runs (each attempt); error.type is set when the attempt failed.',
      unit: 's',
      advice: { explicitBucketBoundaries: PROCESS_BUCKETS_S },
    });
    const sent = meter.createObservableCounter(METRIC_SENT_MESSAGES, {
      description: 'Tasks enqueued by this instance; error.type is set for those whose enqueue failed.',
      unit: '{message}',
    });
    const consumed = meter.createObservableCounter(METRIC_CONSUMED_MESSAGES, {
      description: 'Tasks taken by a worker of this instance for a run (each attempt).',
      unit: '{message}',
    });
    const retries = meter.createObservableCounter(METRIC_RETRIES, {
      description: 'Attempts that failed and were scheduled again.',
      unit: '{retry}',
    });
    const dead = meter.createObservableCounter(METRIC_DEAD_TASKS, {
      description: 'Tasks that went dead (attempts exhausted, non-retryable, unreadable or without a handler).',
      unit: '{task}',
    });
    this.depth = meter.createObservableGauge(METRIC_QUEUE_TASKS, {
      description:
        'Tasks of the queue by state, read from the driver at collection (BullMQ: the whole queue in Redis).',
      unit: '{task}',
    });
    this.counters = [sent, consumed, retries, dead];
    this.observeCounters = (result) => {
      for (const s of this.series.values()) {
        result.observe(sent, s.sent, s.attributes);
        for (const [attributes, count] of s.sentErrors) result.observe(sent, count, attributes);
        result.observe(consumed, s.consumed, s.attributes);
        result.observe(retries, s.retries, s.attributes);
        result.observe(dead, s.dead, s.attributes);
      }
    };
    meter.addBatchObservableCallback(this.observeCounters, this.counters);
  }

  /**
   * Counts retries and dead tasks from the driver's events, and reports its counts as the depth gauge. A read that
   * fails or takes longer than QUEUE_DEPTH_TIMEOUT_MS (Redis away) skips the points; nothing reaches the SDK.
   */
  watch(driver: TaskQueueDriver): void {
    if (!this.metering) return;
    driver.events.on('retrying', (event) => void this.series.of(event.name).retries++);
    driver.events.on('dead', (event) => void this.series.of(event.name).dead++);
    const attributes = DEPTH_STATES.map(([state]) => ({ [ATTR_DESTINATION]: this.queue, [ATTR_STATE]: state }));
    this.observeDepth = async (result) => {
      try {
        const counts = await withTimeout(driver.stats(), QUEUE_DEPTH_TIMEOUT_MS);
        DEPTH_STATES.forEach(([, field], i) => result.observe(counts[field], attributes[i]));
      } catch {
        // Skipped: the gauge has no point this collection, which is what "unknown" should look like.
      }
    };
    this.depth.addCallback(this.observeDepth);
  }

  /** Whether an enqueue has anything to record: a MeterProvider at construction, or a tracer provider now. */
  recordsEnqueue(): boolean {
    return this.metering || this.activeTracer() !== undefined;
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
    const tracer = this.activeTracer();
    let span: Span | undefined;
    if (tracer !== undefined) {
      const one = tasks.length === 1;
      span = tracer.startSpan(this.sendName, {
        kind: SpanKind.PRODUCER,
        attributes: one ? this.series.of(tasks[0].name).sendSpan : this.batchSendAttributes,
      });
      if (!one) span.setAttribute(ATTR_BATCH_COUNT, tasks.length);
      const carrier = injectCarrier(span);
      if (carrier !== undefined) for (const task of tasks) task.trace = carrier;
    }
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

  /** A worker took an attempt of task `name` (counted whether it starts now or waits at its handler's gate). */
  taken(name: string): void {
    if (this.metering) this.series.of(name).consumed++;
  }

  /** Calls the handler, inside a CONSUMER span `process <queue>` under the producer's context when tracing. */
  invoke(handler: RegisteredTaskHandler, run: TaskRun): unknown {
    const tracer = this.activeTracer();
    if (tracer === undefined) return handler.invoke(run.payload, run);
    const parent = producerContext(run.traceCarrier());
    const span = tracer.startSpan(
      this.processName,
      { kind: SpanKind.CONSUMER, attributes: this.series.of(run.name).processSpan },
      parent,
    );
    span.setAttribute(ATTR_MESSAGE_ID, run.id);
    span.setAttribute(ATTR_ATTEMPT, run.attempt);
    run.trace = new RunSpan(span);
    return context.with(trace.setSpan(parent, span), handler.invoke, undefined, run.payload, run);
  }

  /** Calls a batch handler, inside one CONSUMER span linked to each attempt's producer when tracing. */
  invokeBatch(handler: RegisteredTaskHandler, runs: TaskRun[]): unknown {
    const invoke = handler.invoke as (tasks: TaskRun[]) => unknown;
    const tracer = this.activeTracer();
    if (tracer === undefined) return invoke(runs);
    const span = tracer.startSpan(
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
    this.processDuration.record(ms / 1_000, failed ? series.failureAttributes(error) : series.attributes);
  }

  /** Stops reporting (a closed queue must not keep its collection callbacks alive). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observeCounters, this.counters);
    if (this.observeDepth !== undefined) this.depth.removeCallback(this.observeDepth);
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
    if (timed) this.operationDuration.record(seconds, failed ? series.failureAttributes(error) : series.attributes);
  }

  /** The SDK's tracer, or undefined while only the API's proxy (no provider) is in place. */
  private activeTracer(): Tracer | undefined {
    const provider = trace.getTracerProvider();
    if (!(provider instanceof ProxyTracerProvider))
      return provider.getTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    const delegate = provider.getDelegate();
    if (delegate !== this.tracerDelegate) {
      this.tracerDelegate = delegate;
      this.tracer = provider.getDelegateTracer(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION);
    }
    return this.tracer;
  }
}
