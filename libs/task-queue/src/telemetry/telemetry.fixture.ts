import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { context, metrics, propagation, type TextMapPropagator, trace, TraceFlags } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { BatchTask } from '../interfaces/task-handler-options.interface.js';
import type { TaskQueueModuleOptions } from '../interfaces/task-queue-options.interface.js';
import type { TaskQueueModuleExtras } from '../task-queue.module-definition.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { TASK_QUEUE_PROMETHEUS_VIEWS } from './prometheus-views.js';

export const QUEUE = 'otel-tasks';

/** Both drivers, each with fresh isolated options (BullMQ: a unique prefix on the test Redis). */
export const DRIVERS: [string, () => TaskQueueModuleOptions][] = [
  ['memory', () => ({ driver: 'memory' })],
  ['bullmq', () => ({ driver: 'bullmq', connection: { url: redisUrl() }, prefix: uniquePrefix('tq-otel') })],
];

/** What the handlers saw: the span active in each run (its id), by task name. */
export class Seen {
  readonly activeSpans: { name: string; spanId: string | undefined; traceId: string | undefined }[] = [];
}

@Injectable()
export class TelemetryHandlers {
  constructor(private readonly seen: Seen) {}

  /** Starts a span of its own, which must nest under the run's CONSUMER span. */
  @TaskHandler('ok')
  ok(payload: unknown) {
    this.record('ok');
    return trace.getTracer('app').startActiveSpan('work', (span) => {
      span.end();
      return payload;
    });
  }

  @TaskHandler('flaky', { attempts: 2, backoff: { type: 'fixed', delayMs: 10, jitter: 0 } })
  flaky() {
    this.record('flaky');
    throw new RangeError('flaky failed');
  }

  /** An item whose payload is 'bad' fails alone (and goes dead: one attempt). */
  @TaskHandler('bulk', { attempts: 1, batch: { maxSize: 3, maxWaitMs: 100 } })
  bulk(tasks: BatchTask[]) {
    this.record('bulk');
    return tasks.map((task) => (task.payload === 'bad' ? new TypeError('bad item') : undefined));
  }

  private record(name: string): void {
    const span = trace.getActiveSpan()?.spanContext();
    this.seen.activeSpans.push({ name, spanId: span?.spanId, traceId: span?.traceId });
  }
}

export interface TelemetryApp {
  moduleRef: TestingModule;
  queue: TaskQueue;
  seen: Seen;
}

const open: TestingModule[] = [];

export async function bootApp(options: TaskQueueModuleOptions & TaskQueueModuleExtras): Promise<TelemetryApp> {
  const seen = new Seen();
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, queueName: QUEUE, ...options })],
    providers: [TelemetryHandlers, { provide: Seen, useValue: seen }],
  }).compile();
  open.push(moduleRef);
  await moduleRef.init();
  return { moduleRef, queue: moduleRef.get(TaskQueue), seen };
}

/** Closes every app booted since, and unregisters the SDK. */
export async function closeAll(): Promise<void> {
  await Promise.all(open.splice(0).map((m) => m.close()));
  metrics.disable();
  trace.disable();
  context.disable();
  propagation.disable();
}

/** An SDK MeterProvider with a pull reader (the Prometheus exporter, no server) and the lib's views. */
export function registerMeterProvider(): PrometheusExporter {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader], views: [...TASK_QUEUE_PROMETHEUS_VIEWS] });
  if (!metrics.setGlobalMeterProvider(provider)) throw new Error('a MeterProvider was already registered');
  return reader;
}

/** W3C trace context, as the SDK's propagator writes and reads it (that one lives in an SDK package). */
export const traceparent: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (span !== undefined) setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-01`);
  },
  extract(ctx, carrier, getter) {
    const value = getter.get(carrier, 'traceparent');
    const match = typeof value === 'string' ? /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/.exec(value) : null;
    if (match === null) return ctx;
    return trace.setSpanContext(ctx, {
      traceId: match[1],
      spanId: match[2],
      traceFlags: TraceFlags.SAMPLED,
      isRemote: true,
    });
  },
  fields: () => ['traceparent'],
};

/** A tracer provider with an in-memory exporter, an AsyncLocalStorage context manager and `propagator`. */
export function registerTracerProvider(propagator: TextMapPropagator = traceparent): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncHooksContextManager().enable());
  propagation.setGlobalPropagator(propagator);
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider was already registered');
  return exporter;
}

export async function collect(reader: PrometheusExporter): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}

export function metric(resourceMetrics: ResourceMetrics, name: string): MetricData | undefined {
  for (const scope of resourceMetrics.scopeMetrics) {
    const found = scope.metrics.find((m) => m.descriptor.name === name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/**
 * Point values keyed by their attributes as `k=v,…` (sorted, without the queue, which is always QUEUE),
 * histograms by their count.
 */
export function points(data: MetricData | undefined): Record<string, number> {
  const out: Record<string, number> = {};
  for (const point of data?.dataPoints ?? []) {
    expect(point.attributes['messaging.destination.name']).toBe(QUEUE);
    const key = Object.entries(point.attributes)
      .filter(([k]) => k !== 'messaging.destination.name')
      .map(([k, v]) => `${k}=${String(v)}`)
      .toSorted()
      .join(',');
    out[key] = typeof point.value === 'number' ? point.value : (point.value as { count: number }).count;
  }
  return out;
}
