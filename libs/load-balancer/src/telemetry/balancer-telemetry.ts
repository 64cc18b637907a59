import {
  metrics,
  ProxyTracerProvider,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Counter,
  type Histogram,
  type Meter,
  type Observable,
  type Tracer,
  type TracerProvider,
} from '@opentelemetry/api';
import type { CallTelemetry, CallTrace } from '../execution/call-run.js';
import type { TryOutcome } from '../execution/running-try.js';
import type { EjectionReason } from '../interfaces/load-balancer-events.interface.js';
import type { NodeState } from '../interfaces/node-state.interface.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import { CallSpans } from './call-spans.js';
import {
  DURATION_BUCKETS_S,
  INSTRUMENTATION_NAME,
  INSTRUMENTATION_VERSION,
  METRIC_EJECTIONS,
  METRIC_NODE_HEALTH_SCORE,
  METRIC_NODE_STATE,
  METRIC_REQUEST_DURATION,
  METRIC_REQUESTS_IN_FLIGHT,
  METRIC_RETRIES,
} from './telemetry-names.js';
import { isTimeout } from './try-outcome.js';

const NODE_STATES: readonly NodeState[] = ['healthy', 'ejected', 'probing', 'draining'];
/** Removed nodes whose gauges keep reading 0 (see `forget`); the oldest are dropped past this many. */
const MAX_REMOVED = 256;

/** Attribute objects of one node, built once so recording allocates nothing. */
interface NodeAttributes {
  readonly node: Attributes;
  readonly success: Attributes;
  readonly failure: Attributes;
  readonly timeout: Attributes;
  readonly states: readonly Attributes[];
}

/** What the observable instruments read at collection time. */
export interface TelemetrySources {
  /** Every member, draining ones included. */
  members(): Iterable<UpstreamNode>;
  /** The node's health score in [0, 1] now (0 while draining). */
  healthScore(node: UpstreamNode): number;
}

/**
 * One balancer's OpenTelemetry instruments, through `@opentelemetry/api` only: no-ops until the application
 * registers an SDK. Picks are not instrumented at all; a try records one histogram point with cached attributes;
 * in-flight counts, node states and health scores are the balancer's own fields, read only when a reader collects.
 * The meter is taken at construction (the SDK must be registered before the balancer is created); the tracer is
 * looked up per call, and without a tracer provider a call does no span work.
 */
export class BalancerTelemetry implements CallTelemetry {
  private readonly meter: Meter;
  private readonly duration: Histogram;
  private readonly retries: Counter;
  private readonly ejections: Counter;
  private readonly observables: Observable[];
  private readonly observe: BatchObservableCallback;
  private readonly balancerAttributes: Attributes;
  private readonly nodeAttributes = new Map<UpstreamNode, NodeAttributes>();
  /** Removed nodes by id, oldest first. */
  private readonly removed = new Map<string, NodeAttributes>();
  private readonly ejectionAttributes = new Map<string, Attributes>();
  private tracerDelegate: TracerProvider | undefined;
  private tracer: Tracer | undefined;

  constructor(
    private readonly balancer: string,
    sources: TelemetrySources,
  ) {
    this.balancerAttributes = { balancer };
    const meter = (this.meter = metrics.getMeter(INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION));
    this.duration = meter.createHistogram(METRIC_REQUEST_DURATION, {
      description: 'Duration of each try of a balanced call, by node and outcome (success, failure, timeout).',
      unit: 's',
      advice: { explicitBucketBoundaries: DURATION_BUCKETS_S },
    });
    this.retries = meter.createCounter(METRIC_RETRIES, { description: 'Retries started.', unit: '{retry}' });
    this.ejections = meter.createCounter(METRIC_EJECTIONS, {
      description: 'Nodes taken out of rotation, by reason.',
      unit: '{ejection}',
    });
    const inFlight = meter.createObservableUpDownCounter(METRIC_REQUESTS_IN_FLIGHT, {
      description: 'Tries in flight per node.',
      unit: '{request}',
    });
    const state = meter.createObservableGauge(METRIC_NODE_STATE, {
      description: "1 for the node's current state (healthy, ejected, probing, draining), 0 for the others.",
    });
    const score = meter.createObservableGauge(METRIC_NODE_HEALTH_SCORE, {
      description: "The node's health score, from 0 to 1.",
    });
    this.observables = [inFlight, state, score];
    this.observe = (result) => {
      for (const node of sources.members()) {
        const attributes = this.attributesOf(node);
        result.observe(inFlight, node.inFlight, attributes.node);
        result.observe(score, sources.healthScore(node), attributes.node);
        for (let i = 0; i < NODE_STATES.length; i++) {
          result.observe(state, node.state === NODE_STATES[i] ? 1 : 0, attributes.states[i]);
        }
      }
      for (const attributes of this.removed.values()) {
        result.observe(inFlight, 0, attributes.node);
        result.observe(score, 0, attributes.node);
        for (const stateAttributes of attributes.states) result.observe(state, 0, stateAttributes);
      }
    };
    meter.addBatchObservableCallback(this.observe, this.observables);
  }

  /** Records a finished try; tries stopped because another answered first or the caller gave up have no outcome. */
  tryFinished(node: UpstreamNode, outcome: TryOutcome, latencyMs: number, error: unknown): void {
    if (outcome === 'cancelled' || outcome === 'outlasted') return;
    const attributes = this.attributesOf(node);
    this.duration.record(
      latencyMs / 1000,
      outcome === 'success' ? attributes.success : isTimeout(error) ? attributes.timeout : attributes.failure,
    );
  }

  retried(): void {
    this.retries.add(1, this.balancerAttributes);
  }

  ejected(nodeId: string, reason: EjectionReason): void {
    const key = `${nodeId}\n${reason}`;
    let attributes = this.ejectionAttributes.get(key);
    if (attributes === undefined) {
      attributes = { balancer: this.balancer, node: nodeId, reason };
      this.ejectionAttributes.set(key, attributes);
    }
    this.ejections.add(1, attributes);
  }

  traceCall(): CallTrace | undefined {
    const tracer = this.activeTracer();
    return tracer === undefined ? undefined : new CallSpans(tracer, this.balancer);
  }

  /**
   * A node left. The JS SDK keeps exporting the last value of a series a callback stops observing
   * (open-telemetry/opentelemetry-js#4096), so a removed node would stay `ejected` or `healthy` in Prometheus for
   * ever: its gauges read 0 instead (every state 0, no tries in flight, score 0) until the same id joins again.
   */
  forget(node: UpstreamNode): void {
    const attributes = this.nodeAttributes.get(node);
    if (attributes === undefined) return;
    this.nodeAttributes.delete(node);
    this.removed.delete(node.id);
    this.removed.set(node.id, attributes);
    if (this.removed.size > MAX_REMOVED) this.removed.delete(this.removed.keys().next().value!);
  }

  /** Stops reporting this balancer's gauges (a closed balancer must not keep its collection callback alive). */
  close(): void {
    this.meter.removeBatchObservableCallback(this.observe, this.observables);
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

  private attributesOf(node: UpstreamNode): NodeAttributes {
    let attributes = this.nodeAttributes.get(node);
    if (attributes === undefined) {
      this.removed.delete(node.id);
      const { balancer } = this;
      attributes = {
        node: { balancer, node: node.id },
        success: { balancer, node: node.id, outcome: 'success' },
        failure: { balancer, node: node.id, outcome: 'failure' },
        timeout: { balancer, node: node.id, outcome: 'timeout' },
        states: NODE_STATES.map((state) => ({ balancer, node: node.id, state })),
      };
      this.nodeAttributes.set(node, attributes);
    }
    return attributes;
  }
}
