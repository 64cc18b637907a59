import { readFileSync } from 'node:fs';
import { context, metrics, SpanStatusCode, trace } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider, type MetricData, type ResourceMetrics } from '@opentelemetry/sdk-metrics';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { Test, type TestingModule } from '@nestjs/testing';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from '../interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import type { MultiLevelCache } from '../multi-level-cache.service.js';
import { getCacheToken } from '../multi-level-cache.tokens.js';
import { MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS } from './prometheus-views.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './telemetry-names.js';

const open: TestingModule[] = [];

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get<MultiLevelCache>(getCacheToken(options.name));
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  metrics.disable();
  trace.disable();
  context.disable();
});

/** An SDK MeterProvider with a pull reader (the Prometheus exporter, no server), registered globally. */
function registerMeterProvider(): PrometheusExporter {
  const reader = new PrometheusExporter({ preventServerStart: true });
  const provider = new MeterProvider({ readers: [reader], views: [...MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS] });
  expect(metrics.setGlobalMeterProvider(provider)).toBe(true);
  return reader;
}

function registerTracerProvider(): InMemorySpanExporter {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  context.setGlobalContextManager(new AsyncHooksContextManager().enable());
  if (!trace.setGlobalTracerProvider(provider)) throw new Error('a tracer provider was already registered');
  return exporter;
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
  const out: Record<string, number> = {};
  for (const point of data?.dataPoints ?? []) {
    const key = Object.entries(point.attributes)
      .map(([k, v]) => `${k}=${String(v)}`)
      .toSorted()
      .join(',');
    out[key] = typeof point.value === 'number' ? point.value : (point.value as { count: number }).count;
  }
  return out;
}

describe('OpenTelemetry of the cache (SDK reader, real Redis)', () => {
  it('counts lookups per tier and outcome, times loader runs (error.type on a throw) and L2 operations', async () => {
    const reader = registerMeterProvider();
    const namespace = uniquePrefix('otel');
    const a = await start({ name: 'products', namespace, l2: { url: redisUrl() } });
    // Another instance on the same Redis namespace (as another process would be), under its own name here.
    const b = await start({ name: 'peer', namespace, l2: { url: redisUrl() } });
    expect(await a.wrap('k', () => 1)).toBe(1); // l1 miss, l2 miss, loader
    expect(await a.wrap('k', () => 2)).toBe(1); // l1 hit
    expect(await b.wrap('k', () => 3)).toBe(1); // l1 miss, l2 hit
    await expect(
      a.wrap('boom', () => {
        throw new RangeError('no');
      }),
    ).rejects.toThrow('no');
    await a.set('k', 4); // a bus message to b
    await vi.waitFor(() => expect(b.stats().bus.received).toBe(1));
    const got = await collect(reader);

    const requests = points(metric(got, 'nest_scale.cache.requests'));
    const count = (name: string, t: string, o: string) =>
      requests[`cache.name=${name},cache.outcome=${o},cache.tier=${t}`];
    expect([
      count('products', 'l1', 'hit'),
      count('products', 'l1', 'miss'),
      count('products', 'l1', 'stale'),
    ]).toStrictEqual([1, 2, 0]);
    expect([count('products', 'l2', 'hit'), count('products', 'l2', 'miss')]).toStrictEqual([0, 2]);
    expect(count('products', 'loader', 'miss')).toBe(2);
    expect([count('peer', 'l1', 'miss'), count('peer', 'l2', 'hit'), count('peer', 'loader', 'miss')]).toStrictEqual([
      1, 1, 0,
    ]);
    expect(points(metric(got, 'nest_scale.cache.loader.duration_seconds'))).toStrictEqual({
      'cache.name=products': 1,
      'cache.name=products,error.type=RangeError': 1,
    });
    const l2 = points(metric(got, 'nest_scale.cache.l2.operation.duration_seconds'));
    expect(l2['cache.name=products,operation=read']).toBe(2);
    expect(l2['cache.name=peer,operation=read']).toBe(1);
    expect(l2['cache.name=products,operation=write']).toBeGreaterThanOrEqual(2);
    expect(points(metric(got, 'nest_scale.cache.l2.available'))).toStrictEqual({
      'cache.name=peer': 1,
      'cache.name=products': 1,
    });
    expect(points(metric(got, 'nest_scale.cache.bus.live'))).toStrictEqual({
      'cache.name=peer': 1,
      'cache.name=products': 1,
    });
    expect(points(metric(got, 'nest_scale.cache.l1.entries'))).toStrictEqual({
      'cache.name=peer': 0,
      'cache.name=products': 1,
    });
    const bus = points(metric(got, 'nest_scale.cache.bus.messages'));
    expect(bus['cache.name=products,direction=sent']).toBeGreaterThanOrEqual(1);
    expect(bus['cache.name=peer,direction=received']).toBe(1);
    expect(bus['cache.name=peer,direction=ignored']).toBe(0);
  });

  it('exports the Prometheus names of monitoring/README.md', async () => {
    const reader = registerMeterProvider();
    const cache = await start({ namespace: uniquePrefix('otel-prom'), l2: { url: redisUrl() } });
    await cache.wrap('k', () => 1);
    const text = new PrometheusSerializer().serialize(await collect(reader));
    const contract = readFileSync(new URL('../../../../monitoring/README.md', import.meta.url), 'utf8');
    const names = [...contract.matchAll(/^\| `(nest_scale_cache_[a-z0-9_]+)`/gm)].map((m) => m[1]);
    expect(names).toHaveLength(7);
    for (const name of names) {
      const series = name.endsWith('_seconds') ? `${name}_bucket` : name;
      expect(text).toMatch(new RegExp(`^${series}\\{[^}]*cache_name="default"`, 'm'));
    }
    expect(text).toMatch(
      /^nest_scale_cache_requests_total\{cache_name="default",cache_tier="loader",cache_outcome="miss",[^}]*\} 1$/m,
    );
  });

  it('with no L2, reports L1 and loader only; with l1: false, no L1 entries gauge', async () => {
    const reader = registerMeterProvider();
    const local = await start({ name: 'local', namespace: uniquePrefix('otel-local'), l2: false });
    const remote = await start({
      name: 'remote',
      namespace: uniquePrefix('otel-remote'),
      l1: false,
      l2: { url: redisUrl() },
    });
    await local.wrap('k', () => 1);
    await remote.wrap('k', () => 1);
    const got = await collect(reader);
    const tiers = Object.keys(points(metric(got, 'nest_scale.cache.requests'))).filter((k) => k.includes('local'));
    expect(tiers.some((k) => k.includes('cache.tier=l2'))).toBe(false);
    expect(Object.keys(points(metric(got, 'nest_scale.cache.l2.available')))).toStrictEqual(['cache.name=remote']);
    expect(Object.keys(points(metric(got, 'nest_scale.cache.l1.entries')))).toStrictEqual(['cache.name=local']);
  });

  it('a span per operation that leaves L1, none for an L1 hit; a loader error is recorded on the span', async () => {
    const spans = registerTracerProvider();
    const cache = await start({ name: 'spans', namespace: uniquePrefix('otel-spans'), l2: { url: redisUrl() } });
    await cache.wrap('k', () => 1);
    for (let i = 0; i < 100; i++) await cache.wrap('k', () => 2);
    for (let i = 0; i < 100; i++) await cache.get('k');
    await cache.set('s', 1);
    await cache.get('missing');
    await cache.del('s');
    await cache.invalidateTags(['t']);
    await expect(
      cache.wrap('boom', () => {
        throw new Error('source down');
      }),
    ).rejects.toThrow('source down');
    const finished = spans.getFinishedSpans();
    expect(finished.map((s) => s.name)).toStrictEqual([
      'cache.wrap',
      'cache.set',
      'cache.get',
      'cache.del',
      'cache.invalidate_tags',
      'cache.wrap',
    ]);
    expect(finished[0].instrumentationScope).toMatchObject({
      name: INSTRUMENTATION_NAME,
      version: INSTRUMENTATION_VERSION,
    });
    expect(finished[0].attributes).toMatchObject({ 'cache.name': 'spans' });
    expect(finished[5].status).toMatchObject({ code: SpanStatusCode.ERROR, message: 'source down' });
    expect(finished[5].events.map((e) => e.name)).toStrictEqual(['exception']);
  });

  it('the loader runs under the cache.wrap span, so its own spans nest there', async () => {
    const spans = registerTracerProvider();
    const cache = await start({ namespace: uniquePrefix('otel-nest'), l2: { url: redisUrl() } });
    await cache.wrap('k', () => trace.getTracer('app').startActiveSpan('db.query', (span) => (span.end(), 1)));
    const [db, wrap] = spans.getFinishedSpans();
    expect([db.name, wrap.name]).toStrictEqual(['db.query', 'cache.wrap']);
    expect(db.parentSpanContext?.spanId).toBe(wrap.spanContext().spanId);
  });

  it('keeps the instrumentation version equal to the package version', () => {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(INSTRUMENTATION_VERSION).toBe(pkg.version);
  });
});
