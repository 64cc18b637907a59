import {
  type BatchObservableCallback,
  createNoopMeter,
  type Histogram,
  type Meter,
  metrics,
  type Observable,
  type ObservableCallback,
  type ObservableGauge,
} from '@opentelemetry/api';
import { withTimeout } from '../drivers/bullmq-connection.js';
import type { TaskQueueDriver } from '../drivers/task-queue.driver.js';
import { TaskSeriesMap } from './task-series.js';
import {
  ATTR_DESTINATION,
  ATTR_STATE,
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
 * @internal One queue's instruments. The four counters are observable, over the plain fields of each task name's
 * series, read at collection; the two histograms are recorded by `TaskQueueTelemetry`. The meter is taken at
 * construction: without a registered MeterProvider it is the API's no-op and `metering` is false.
 */
export class QueueInstruments {
  /** False when no MeterProvider was registered at construction: nothing is counted or timed. */
  readonly metering: boolean;
  readonly series: TaskSeriesMap;
  readonly operationDuration: Histogram;
  readonly processDuration: Histogram;
  private readonly meter: Meter;
  private readonly counters: Observable[];
  private readonly observeCounters: BatchObservableCallback;
  private readonly depth: ObservableGauge;
  private observeDepth: ObservableCallback | undefined;

  constructor(private readonly queue: string) {
    this.series = new TaskSeriesMap(queue);
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

  /** Stops reporting (a closed queue must not keep its collection callbacks alive). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observeCounters, this.counters);
    if (this.observeDepth !== undefined) this.depth.removeCallback(this.observeDepth);
  }
}
