import {
  createNoopMeter,
  metrics,
  ProxyTracerProvider,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Histogram,
  type Meter,
  type Observable,
  type Span,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { CacheCounters } from '../load/cache-context.js';
import {
  ATTR_CACHE_NAME,
  ATTR_NAMESPACE,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  L2_BUCKETS_S,
  LOADER_BUCKETS_S,
  METRIC_BUS_LIVE,
  METRIC_BUS_MESSAGES,
  METRIC_L1_ENTRIES,
  METRIC_L2_AVAILABLE,
  METRIC_L2_OPERATION_DURATION,
  METRIC_LOADER_DURATION,
  METRIC_REQUESTS,
} from './telemetry-names.js';

/** What the observable instruments read at collection time: the cache's own fields. */
export interface TelemetrySources {
  readonly counters: CacheCounters;
  readonly hasL2: boolean;
  l2Available(): boolean;
  l1Entries(): number | undefined;
  bus(): { live: boolean; published: number; received: number; ignored: number } | undefined;
}

/**
 * One cache's OpenTelemetry instruments, through `@opentelemetry/api` only: no-ops until the application registers
 * an SDK. Nothing is recorded on a lookup: `nest_scale.cache.requests` is an observable counter over the counters
 * `stats()` reads, so an L1 hit costs the same with or without an SDK. Loader runs and L2 operations record a
 * histogram point with attributes built once. The meter is taken at construction (register the SDK before the
 * application is created); the tracer is looked up per operation, and without a tracer provider no span work is done.
 * @internal
 */
export class CacheTelemetry {
  /** False when no MeterProvider was registered at construction: callers skip timing L2 operations. */
  readonly metering: boolean;
  private readonly meter: Meter;
  private readonly loaderDuration: Histogram;
  private readonly l2Duration: Histogram;
  private readonly observables: Observable[];
  private readonly observe: BatchObservableCallback;
  private readonly name: Attributes;
  private readonly spanAttributes: Attributes;
  private readonly errorAttributes = new Map<string, Attributes>();
  private readonly operationAttributes = new Map<string, Attributes>();
  private tracerDelegate: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(cacheName: string, namespace: string, sources: TelemetrySources) {
    this.name = { [ATTR_CACHE_NAME]: cacheName };
    this.spanAttributes = { [ATTR_CACHE_NAME]: cacheName, [ATTR_NAMESPACE]: namespace };
    const meter = (this.meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION));
    // Without a registered MeterProvider the API hands out its no-op meter.
    this.metering = meter.constructor !== createNoopMeter().constructor;
    this.loaderDuration = meter.createHistogram(METRIC_LOADER_DURATION, {
      description: 'Duration of loader runs; error.type is set when the loader threw.',
      unit: 's',
      advice: { explicitBucketBoundaries: LOADER_BUCKETS_S },
    });
    this.l2Duration = meter.createHistogram(METRIC_L2_OPERATION_DURATION, {
      description: 'Duration of the L2 (Redis or Keyv store) operations of the cache, by operation.',
      unit: 's',
      advice: { explicitBucketBoundaries: L2_BUCKETS_S },
    });
    const requests = meter.createObservableCounter(METRIC_REQUESTS, {
      description: 'Lookups by tier (l1, l2, loader) and outcome (hit, miss, stale).',
      unit: '{request}',
    });
    const l2Available = meter.createObservableGauge(METRIC_L2_AVAILABLE, {
      description: '1 while L2 is usable (circuit breaker closed), else 0.',
    });
    const busLive = meter.createObservableGauge(METRIC_BUS_LIVE, {
      description: '1 while the invalidation bus is subscribed and proven live, else 0.',
    });
    const l1Entries = meter.createObservableGauge(METRIC_L1_ENTRIES, {
      description: 'Entries in the in-process L1.',
      unit: '{entry}',
    });
    const busMessages = meter.createObservableCounter(METRIC_BUS_MESSAGES, {
      description: 'Invalidation bus messages, by direction (sent, received, ignored).',
      unit: '{message}',
    });
    this.observables = [requests, l2Available, busLive, l1Entries, busMessages];
    const series = (attributes: Attributes) => ({ ...this.name, ...attributes });
    const l1 = ['hit', 'stale', 'miss'].map((outcome) => series({ 'cache.tier': 'l1', 'cache.outcome': outcome }));
    const l2 = ['hit', 'stale', 'miss'].map((outcome) => series({ 'cache.tier': 'l2', 'cache.outcome': outcome }));
    const loader = series({ 'cache.tier': 'loader', 'cache.outcome': 'miss' });
    const directions = ['sent', 'received', 'ignored'].map((direction) => series({ direction }));
    this.observe = (result) => {
      const c = sources.counters;
      result.observe(requests, c.l1, l1[0]);
      result.observe(requests, c.l1Stale, l1[1]);
      result.observe(requests, c.l1Misses, l1[2]);
      if (sources.hasL2) {
        result.observe(requests, c.l2, l2[0]);
        result.observe(requests, c.l2Stale, l2[1]);
        result.observe(requests, c.misses, l2[2]);
        result.observe(l2Available, sources.l2Available() ? 1 : 0, this.name);
      }
      result.observe(requests, c.loaderCalls, loader);
      const entries = sources.l1Entries();
      if (entries !== undefined) result.observe(l1Entries, entries, this.name);
      const bus = sources.bus();
      if (bus !== undefined) {
        result.observe(busLive, bus.live ? 1 : 0, this.name);
        result.observe(busMessages, bus.published, directions[0]);
        result.observe(busMessages, bus.received, directions[1]);
        result.observe(busMessages, bus.ignored, directions[2]);
      }
    };
    meter.addBatchObservableCallback(this.observe, this.observables);
  }

  /** A loader run ended after `seconds`; `error` when it threw (its class name becomes `error.type`). */
  loaderDone(seconds: number, error?: unknown): void {
    this.loaderDuration.record(seconds, error === undefined ? this.name : this.errorAttributesOf(error));
  }

  /** An L2 operation (`read`, `write`, …) took `seconds`. */
  l2Done(operation: string, seconds: number): void {
    let attributes = this.operationAttributes.get(operation);
    if (attributes === undefined) {
      attributes = { ...this.name, operation };
      this.operationAttributes.set(operation, attributes);
    }
    this.l2Duration.record(seconds, attributes);
  }

  /**
   * Runs `work` inside an INTERNAL span `cache.<operation>` when a tracer provider is registered, else just runs
   * it. The span ends when the promise settles; a rejection is recorded on it.
   */
  traced<T>(operation: string, work: () => Promise<T>): Promise<T> {
    const tracer = this.activeTracer();
    if (tracer === undefined) return work();
    return tracer.startActiveSpan(`cache.${operation}`, { attributes: this.spanAttributes }, (span: Span) =>
      work().then(
        (value) => {
          span.end();
          return value;
        },
        (error: unknown) => {
          span.recordException(error instanceof Error ? error : String(error));
          span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
          span.end();
          throw error;
        },
      ),
    );
  }

  /** Stops reporting this cache's gauges (a closed cache must not keep its collection callback alive). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.observables);
  }

  private errorAttributesOf(error: unknown): Attributes {
    const type = error instanceof Error ? error.constructor.name || 'Error' : '_OTHER';
    let attributes = this.errorAttributes.get(type);
    if (attributes === undefined) {
      attributes = { ...this.name, 'error.type': type };
      // Bounded: user error classes are few; past 64 kinds the rest share `_OTHER`.
      if (this.errorAttributes.size >= 64) return { ...this.name, 'error.type': '_OTHER' };
      this.errorAttributes.set(type, attributes);
    }
    return attributes;
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
