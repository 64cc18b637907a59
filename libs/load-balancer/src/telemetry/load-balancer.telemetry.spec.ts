import { readFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type TextMapPropagator,
} from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import {
  DataPointType,
  MeterProvider,
  type HistogramMetricData,
  type MetricData,
  type ResourceMetrics,
} from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Test } from '@nestjs/testing';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { LoadBalancedHttpClient } from '../http/load-balanced-http-client.js';
import { LoadBalancerModule } from '../load-balancer.module.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { getLoadBalancedHttpClientToken } from '../load-balancer.tokens.js';
import { seededRandom } from '../random/random-source.js';
import { LOAD_BALANCER_PROMETHEUS_VIEWS } from './prometheus-views.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './telemetry-names.js';

/** A local upstream: `ok` answers 200, `bad` 503, `hang` holds every request until `release()`. */
interface Upstream {
  readonly port: number;
  readonly headers: IncomingHttpHeaders[];
  release(): void;
  close(): Promise<void>;
}

async function upstream(kind: 'ok' | 'bad' | 'hang'): Promise<Upstream> {
  const headers: IncomingHttpHeaders[] = [];
  const held: Array<() => void> = [];
  const server: Server = createServer((req, res) => {
    headers.push(req.headers);
    const answer = () => {
      res.statusCode = kind === 'bad' ? 503 : 200;
      res.end(kind);
    };
    if (kind === 'hang') held.push(answer);
    else answer();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    headers,
    release: () => held.splice(0).forEach((answer) => answer()),
    close: () => {
      held.splice(0).forEach((answer) => answer());
      server.closeAllConnections();
      return new Promise((resolve) => server.close(() => resolve()));
    },
  };
}

/** Writes `traceparent` as W3C trace context does (the propagator implementation lives in SDK packages). */
const traceparentPropagator: TextMapPropagator = {
  inject(ctx, carrier, setter) {
    const span = trace.getSpanContext(ctx);
    if (span !== undefined) setter.set(carrier, 'traceparent', `00-${span.traceId}-${span.spanId}-01`);
  },
  extract: (ctx) => ctx,
  fields: () => ['traceparent'],
};

let upstreams: Upstream[] = [];
let balancers: LoadBalancer[] = [];
let clients: LoadBalancedHttpClient[] = [];

function balancedClient(
  nodes: Array<{ id: string; server: Upstream }>,
  options: { retries?: number; timeoutMs?: number; consecutiveFailures?: number } = {},
): { lb: LoadBalancer; http: LoadBalancedHttpClient } {
  const lb = new LoadBalancer({
    name: 'catalog',
    strategy: 'round-robin',
    random: seededRandom(7),
    retries: options.retries ?? 0,
    nodes: nodes.map(({ id, server }) => ({ id, host: '127.0.0.1', port: server.port })),
    outlierDetection:
      options.consecutiveFailures === undefined ? false : { consecutiveFailures: options.consecutiveFailures },
  });
  const http = new LoadBalancedHttpClient(lb, { timeoutMs: options.timeoutMs ?? 5_000 });
  balancers.push(lb);
  clients.push(http);
  return { lb, http };
}

afterEach(async () => {
  for (const lb of balancers) lb.close();
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(upstreams.map((u) => u.close()));
  balancers = [];
  clients = [];
  upstreams = [];
  metrics.disable();
  trace.disable();
  context.disable();
  propagation.disable();
});

async function start(...kinds: Array<'ok' | 'bad' | 'hang'>): Promise<Upstream[]> {
  const started = await Promise.all(kinds.map((kind) => upstream(kind)));
  upstreams.push(...started);
  return started;
}

/** An SDK MeterProvider with a pull reader (the Prometheus exporter, no server), registered globally. */
function registerMeterProvider(withPrometheusViews = false): PrometheusExporter {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({
    readers: [reader],
    views: withPrometheusViews ? [...LOAD_BALANCER_PROMETHEUS_VIEWS] : [],
  });
  expect(metrics.setGlobalMeterProvider(provider)).toBe(true);
  return reader;
}

async function collect(reader: PrometheusExporter): Promise<ResourceMetrics> {
  const { resourceMetrics, errors } = await reader.collect();
  expect(errors).toEqual([]);
  return resourceMetrics;
}

function metric(resourceMetrics: ResourceMetrics, name: string): MetricData | undefined {
  for (const scope of resourceMetrics.scopeMetrics) {
    const found = scope.metrics.find((m) => m.descriptor.name === name);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** Point values keyed by their attributes as `k=v,…` (sorted), histograms by their count. */
function points(data: MetricData | undefined): Record<string, number> {
  if (data === undefined) return {};
  const out: Record<string, number> = {};
  for (const point of data.dataPoints) {
    const key = Object.entries(point.attributes)
      .map(([k, v]) => `${k}=${String(v)}`)
      .toSorted()
      .join(',');
    out[key] =
      data.dataPointType === DataPointType.HISTOGRAM
        ? (point.value as { count: number }).count
        : (point.value as number);
  }
  return out;
}

describe('load balancer metrics with the OpenTelemetry SDK registered', () => {
  it('meter is named after the package and carries its version', async () => {
    const reader = registerMeterProvider();
    const [ok] = await start('ok');
    const { http } = balancedClient([{ id: 'ok', server: ok }]);
    await http.get('/');
    const scopes = (await collect(reader)).scopeMetrics.map((s) => s.scope);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(scopes).toContainEqual(expect.objectContaining({ name: pkg.name, version: pkg.version }));
    expect([INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION]).toEqual([pkg.name, pkg.version]);
  });

  it('records every try in nest_scale.lb.request.duration (s) by node and outcome, and counts retries', async () => {
    const reader = registerMeterProvider();
    const [ok, bad] = await start('ok', 'bad');
    const { http } = balancedClient(
      [
        { id: 'ok', server: ok },
        { id: 'bad', server: bad },
      ],
      { retries: 1 },
    );
    for (let i = 0; i < 6; i++) expect((await http.get('/')).status).toBe(200);
    const collected = await collect(reader);
    const duration = metric(collected, 'nest_scale.lb.request.duration') as HistogramMetricData;
    expect(duration.descriptor.unit).toBe('s');
    expect(duration.dataPointType).toBe(DataPointType.HISTOGRAM);
    // Every call that tries `bad` fails there and is retried on `ok`.
    const tries = points(duration);
    expect(Object.keys(tries).toSorted()).toEqual([
      'balancer=catalog,node=bad,outcome=failure',
      'balancer=catalog,node=ok,outcome=success',
    ]);
    expect(tries['balancer=catalog,node=ok,outcome=success']).toBe(6);
    const failures = tries['balancer=catalog,node=bad,outcome=failure'];
    const sum = duration.dataPoints.find((p) => p.attributes.node === 'ok')!.value.sum!;
    // Seconds, not milliseconds: six local round trips take well under a minute.
    expect(sum).toBeGreaterThan(0);
    expect(sum).toBeLessThan(60);
    expect(points(metric(collected, 'nest_scale.lb.retries'))).toEqual({ 'balancer=catalog': failures });
  });

  it('a try cut by its timeout has outcome "timeout"', async () => {
    const reader = registerMeterProvider();
    const [hang] = await start('hang');
    const { http } = balancedClient([{ id: 'slow', server: hang }], { timeoutMs: 50 });
    await expect(http.get('/')).rejects.toMatchObject({ name: 'TryTimeoutError' });
    expect(points(metric(await collect(reader), 'nest_scale.lb.request.duration'))).toEqual({
      'balancer=catalog,node=slow,outcome=timeout': 1,
    });
  });

  it('nest_scale.lb.requests.in_flight reads the tries in flight per node at collection', async () => {
    const reader = registerMeterProvider();
    const [hang] = await start('hang');
    const { http } = balancedClient([{ id: 'slow', server: hang }]);
    const pending = [http.get('/'), http.get('/')];
    await expect.poll(() => hang.headers.length).toBe(2);
    const during = metric(await collect(reader), 'nest_scale.lb.requests.in_flight');
    expect(during?.dataPointType).toBe(DataPointType.SUM);
    expect(points(during)).toEqual({ 'balancer=catalog,node=slow': 2 });
    hang.release();
    await Promise.all(pending);
    expect(points(metric(await collect(reader), 'nest_scale.lb.requests.in_flight'))).toEqual({
      'balancer=catalog,node=slow': 0,
    });
  });

  it('an ejection is counted by reason and shows in nest_scale.lb.node.state and health_score', async () => {
    const reader = registerMeterProvider();
    const [ok, bad] = await start('ok', 'bad');
    const { lb, http } = balancedClient(
      [
        { id: 'ok', server: ok },
        { id: 'bad', server: bad },
      ],
      { retries: 1, consecutiveFailures: 2 },
    );
    for (let i = 0; i < 6; i++) await http.get('/');
    expect(lb.nodes().find((n) => n.id === 'bad')?.state).toBe('ejected');
    const collected = await collect(reader);
    expect(points(metric(collected, 'nest_scale.lb.ejections'))).toEqual({
      'balancer=catalog,node=bad,reason=consecutive-failures': 1,
    });
    expect(points(metric(collected, 'nest_scale.lb.node.state'))).toEqual({
      'balancer=catalog,node=ok,state=healthy': 1,
      'balancer=catalog,node=ok,state=ejected': 0,
      'balancer=catalog,node=ok,state=probing': 0,
      'balancer=catalog,node=ok,state=draining': 0,
      'balancer=catalog,node=bad,state=healthy': 0,
      'balancer=catalog,node=bad,state=ejected': 1,
      'balancer=catalog,node=bad,state=probing': 0,
      'balancer=catalog,node=bad,state=draining': 0,
    });
    const scores = points(metric(collected, 'nest_scale.lb.node.health_score'));
    const snapshot = Object.fromEntries(lb.nodes().map((n) => [`balancer=catalog,node=${n.id}`, n.healthScore]));
    expect(Object.keys(scores).toSorted()).toEqual(Object.keys(snapshot).toSorted());
    for (const [key, score] of Object.entries(scores)) expect(score).toBeCloseTo(snapshot[key], 6);
    expect(scores['balancer=catalog,node=bad']).toBeLessThan(scores['balancer=catalog,node=ok']);
  });

  it('a removed node reads 0 in every gauge (the SDK would export its last values for ever); a closed balancer stops observing', async () => {
    const reader = registerMeterProvider();
    const [a, b] = await start('ok', 'ok');
    const { lb } = balancedClient([
      { id: 'a', server: a },
      { id: 'b', server: b },
    ]);
    const before = await collect(reader);
    expect(points(metric(before, 'nest_scale.lb.node.health_score'))).toEqual({
      'balancer=catalog,node=a': 1,
      'balancer=catalog,node=b': 1,
    });
    await lb.removeNode('b');
    const after = await collect(reader);
    expect(points(metric(after, 'nest_scale.lb.node.health_score'))).toEqual({
      'balancer=catalog,node=a': 1,
      'balancer=catalog,node=b': 0,
    });
    const states = points(metric(after, 'nest_scale.lb.node.state'));
    expect(Object.entries(states).filter(([key, value]) => key.includes('node=b') && value !== 0)).toEqual([]);
    expect(states['balancer=catalog,node=a,state=healthy']).toBe(1);
    // Back under the same id: live values again.
    lb.addNode({ id: 'b', host: '127.0.0.1', port: b.port });
    expect(
      points(metric(await collect(reader), 'nest_scale.lb.node.state'))['balancer=catalog,node=b,state=healthy'],
    ).toBe(1);
    // Closed: the callback is gone, so a state change is no longer observed.
    lb.close();
    await lb.removeNode('a');
    expect(points(metric(await collect(reader), 'nest_scale.lb.node.health_score'))['balancer=catalog,node=a']).toBe(1);
  });

  it('the Prometheus exporter names every series as monitoring/README.md lists (with LOAD_BALANCER_PROMETHEUS_VIEWS)', async () => {
    const reader = registerMeterProvider(true);
    const [ok, bad] = await start('ok', 'bad');
    const { http } = balancedClient(
      [
        { id: 'ok', server: ok },
        { id: 'bad', server: bad },
      ],
      { retries: 1, consecutiveFailures: 2 },
    );
    for (let i = 0; i < 6; i++) await http.get('/');
    const text = new PrometheusSerializer().serialize(await collect(reader));
    const readme = readFileSync(new URL('../../../../monitoring/README.md', import.meta.url), 'utf8');
    // | `nest_scale_lb_…` | type | `label`, `label` (`value`, …) | … |
    const rows = [...readme.matchAll(/^\| `(nest_scale_lb_\w+)` \| (\w+) \| ([^|]*) \|/gm)];
    expect(rows.map((r) => r[1])).toHaveLength(6);
    for (const [, name, type, labelCell] of rows) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
      const labels = [...labelCell.replaceAll(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map((m) => m[1]);
      const series = type === 'histogram' ? `${name}_bucket` : name;
      const line = text.split('\n').find((l) => l.startsWith(`${series}{`));
      expect(line, `a ${series} series`).toBeDefined();
      const present = [...line!.matchAll(/(\w+)="/g)]
        .map((m) => m[1])
        .filter((l) => !l.startsWith('otel_') && l !== 'le');
      expect({ name, labels: present.toSorted() }).toEqual({ name, labels: labels.toSorted() });
    }
  });
});

describe('the JS Prometheus exporter without LOAD_BALANCER_PROMETHEUS_VIEWS', () => {
  it('names the histogram without the unit suffix, which is why the lib exports the Views', async () => {
    const reader = registerMeterProvider(false);
    const [ok] = await start('ok');
    const { http } = balancedClient([{ id: 'ok', server: ok }]);
    await http.get('/');
    const text = new PrometheusSerializer().serialize(await collect(reader));
    expect(text).toContain('# TYPE nest_scale_lb_request_duration histogram');
    expect(text).not.toContain('nest_scale_lb_request_duration_seconds');
  });
});

describe('a Nest app that imports LoadBalancerModule and registers the SDK first', () => {
  it('gets the instruments of its registered balancer under their Prometheus names', async () => {
    const reader = registerMeterProvider(true);
    const [ok] = await start('ok');
    const app = await Test.createTestingModule({
      imports: [
        LoadBalancerModule.register({ name: 'orders', nodes: [{ id: 'orders-1', host: '127.0.0.1', port: ok.port }] }),
      ],
    }).compile();
    await app.init();
    const http = app.get<LoadBalancedHttpClient>(getLoadBalancedHttpClientToken('orders'));
    expect((await http.get('/')).status).toBe(200);
    const text = new PrometheusSerializer().serialize(await collect(reader));
    expect(text).toMatch(
      /^nest_scale_lb_request_duration_seconds_count\{[^}]*balancer="orders",node="orders-1",outcome="success"[^}]*\} 1$/m,
    );
    expect(text).toMatch(
      /^nest_scale_lb_node_state\{[^}]*balancer="orders",node="orders-1",state="healthy"[^}]*\} 1$/m,
    );
    await app.close();
  });
});

describe('load balancer traces with the OpenTelemetry SDK registered', () => {
  let spans: InMemorySpanExporter;

  beforeEach(() => {
    spans = new InMemorySpanExporter();
    const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spans)] });
    if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider was already registered');
    context.setGlobalContextManager(new AsyncHooksContextManager().enable());
    propagation.setGlobalPropagator(traceparentPropagator);
  });

  it('a balanced HTTP call is a client span under the caller, with a child span per try carrying the trace to the upstream', async () => {
    const [ok, bad] = await start('ok', 'bad');
    const { http } = balancedClient(
      [
        { id: 'ok', server: ok },
        { id: 'bad', server: bad },
      ],
      { retries: 1 },
    );
    const tracer = trace.getTracer('test');
    // Round robin from the seeded start: the first call lands on `ok`, the second on `bad` then retries on `ok`.
    await tracer.startActiveSpan('caller', async (caller) => {
      await http.get('/');
      await http.get('/');
      caller.end();
    });
    const finished = spans.getFinishedSpans();
    const caller = finished.find((s) => s.name === 'caller')!;
    const calls = finished.filter((s) => s.name === 'execute catalog');
    expect(calls).toHaveLength(2);
    for (const call of calls) {
      expect(call.kind).toBe(SpanKind.CLIENT);
      expect(call.parentSpanContext?.spanId).toBe(caller.spanContext().spanId);
      expect(call.spanContext().traceId).toBe(caller.spanContext().traceId);
      expect(call.instrumentationScope.name).toBe('@nest-scale/load-balancer');
      expect(call.attributes['nest_scale.lb.node']).toBe('ok');
    }
    const tries = finished.filter((s) => s.name === 'try catalog');
    expect(tries).toHaveLength(3);
    const retried = calls.find((c) => c.attributes['nest_scale.lb.tries'] === 2)!;
    const retriedTries = tries.filter((t) => t.parentSpanContext?.spanId === retried.spanContext().spanId);
    expect(
      retriedTries.map((t) => [
        t.attributes['nest_scale.lb.node'],
        t.attributes['nest_scale.lb.attempt'],
        t.attributes['nest_scale.lb.try.outcome'],
      ]),
    ).toEqual([
      ['bad', 0, 'failure'],
      ['ok', 1, 'success'],
    ]);
    const failed = retriedTries[0];
    expect(failed.status.code).toBe(SpanStatusCode.ERROR);
    expect(failed.attributes['http.response.status_code']).toBe(503);
    expect(failed.attributes['error.type']).toBe('UpstreamStatusError');
    expect(failed.events.map((e) => e.name)).toContain('exception');
    expect(retried.events.map((e) => [e.name, e.attributes?.['nest_scale.lb.node']])).toEqual([['retry', 'ok']]);
    expect(retried.status.code).toBe(SpanStatusCode.UNSET);
    // Each upstream request carried its own try's span as parent.
    const sent = [...ok.headers, ...bad.headers].map((h) => h.traceparent);
    expect(sent.toSorted()).toEqual(
      tries.map((t) => `00-${t.spanContext().traceId}-${t.spanContext().spanId}-01`).toSorted(),
    );
  });

  it('a failed call records its error on the call span; NoAvailableNodeError too', async () => {
    const [bad] = await start('bad');
    const { lb } = balancedClient([{ id: 'bad', server: bad }]);
    await expect(lb.execute(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    lb.close();
    await lb.removeNode('bad');
    await expect(lb.execute(() => 1)).rejects.toMatchObject({ name: 'NoAvailableNodeError' });
    const calls = spans.getFinishedSpans().filter((s) => s.name === 'execute catalog');
    expect(calls.map((c) => [c.status.code, c.attributes['error.type'], c.attributes['nest_scale.lb.tries']])).toEqual([
      [SpanStatusCode.ERROR, 'Error', 1],
      [SpanStatusCode.ERROR, 'NoAvailableNodeError', 0],
    ]);
  });

  it('a hedge is a child try span and a "hedge" event; the try that lost ends as outlasted', async () => {
    const [a, b] = await start('ok', 'ok');
    const { lb } = balancedClient([
      { id: 'a', server: a },
      { id: 'b', server: b },
    ]);
    // The first try never answers by itself; the hedge (on the other node) answers at once.
    const result = await lb.execute(
      (_node, signal, { hedge }) =>
        hedge
          ? 'hedge'
          : new Promise<string>((_, reject) => signal.addEventListener('abort', () => reject(signal.reason))),
      { idempotent: true, hedge: { delayMs: 0, budget: 1 } },
    );
    expect(result).toBe('hedge');
    const call = spans.getFinishedSpans().find((s) => s.name === 'execute catalog')!;
    const tries = spans.getFinishedSpans().filter((s) => s.name === 'try catalog');
    const summary = tries.map((t) => [
      t.attributes['nest_scale.lb.attempt'],
      t.attributes['nest_scale.lb.hedge'],
      t.attributes['nest_scale.lb.try.outcome'],
      t.parentSpanContext?.spanId === call.spanContext().spanId,
    ]);
    expect(summary.toSorted()).toEqual([
      [0, false, 'outlasted', true],
      [1, true, 'success', true],
    ]);
    expect(call.events.map((e) => e.name)).toEqual(['hedge']);
    expect(new Set(tries.map((t) => t.attributes['nest_scale.lb.node'])).size).toBe(2);
  });
});

describe('load balancer without an OpenTelemetry SDK', () => {
  it('starts no span: fn sees no active span and the upstream gets no traceparent, even with a context manager', async () => {
    context.setGlobalContextManager(new AsyncHooksContextManager().enable());
    propagation.setGlobalPropagator(traceparentPropagator);
    const [ok] = await start('ok');
    const { lb, http } = balancedClient([{ id: 'ok', server: ok }]);
    await expect(lb.execute(() => trace.getActiveSpan())).resolves.toBeUndefined();
    await http.get('/');
    expect(ok.headers.map((h) => h.traceparent)).toEqual([undefined]);
  });

  it('a balancer created before the MeterProvider is registered records nothing; one created after does', async () => {
    const [ok] = await start('ok');
    const before = new LoadBalancer({ name: 'before', nodes: [{ id: 'ok', host: '127.0.0.1', port: ok.port }] });
    balancers.push(before);
    const reader = registerMeterProvider();
    const { lb } = balancedClient([{ id: 'ok', server: ok }]);
    await before.execute(() => 1);
    await lb.execute(() => 1);
    const balancersSeen = new Set(
      (await collect(reader)).scopeMetrics.flatMap((s) =>
        s.metrics.flatMap((m) => m.dataPoints.map((p) => p.attributes.balancer)),
      ),
    );
    expect([...balancersSeen]).toEqual(['catalog']);
  });
});
