import { readFileSync } from 'node:fs';
import { Logger } from '@nestjs/common';
import { context, metrics, propagation } from '@opentelemetry/api';
import { AsyncHooksContextManager } from '@opentelemetry/context-async-hooks';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { Queue } from 'bullmq';
import { RedisServer, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './telemetry-names.js';
import {
  bootApp,
  closeAll,
  collect,
  DRIVERS,
  metric,
  points,
  QUEUE,
  registerMeterProvider,
  traceparent,
} from './telemetry.fixture.js';

afterEach(async () => {
  await closeAll();
  vi.restoreAllMocks();
});

const op = (name: string) => `messaging.operation.name=${name}`;

describe.each(DRIVERS)('task-queue metrics on the %s driver (SDK reader)', (_driver, makeOptions) => {
  it('counts and times enqueues and runs, a retry then a dead task, and reads the depth by state', async () => {
    const reader = registerMeterProvider();
    const { queue } = await bootApp(makeOptions());
    await queue.enqueue('ok', 1);
    await queue.enqueue('ok', 2);
    await queue.enqueueMany([{ name: 'ok', payload: 3 }, { name: 'flaky' }]);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    // BullMQ reports a dead task once Redis has it, a moment after the queue looks idle.
    await vi.waitFor(async () =>
      expect(points(metric(await collect(reader), 'nest_scale.queue.dead_tasks'))).toEqual({
        [op('ok')]: 0,
        [op('flaky')]: 1,
      }),
    );
    const got = await collect(reader);
    expect(points(metric(got, 'messaging.client.sent.messages'))).toEqual({ [op('ok')]: 3, [op('flaky')]: 1 });
    // One point per enqueue call and task name: two enqueue() calls and one enqueueMany for `ok`.
    expect(points(metric(got, 'messaging.client.operation.duration_seconds'))).toEqual({
      [op('ok')]: 3,
      [op('flaky')]: 1,
    });
    expect(points(metric(got, 'messaging.process.duration_seconds'))).toEqual({
      [op('ok')]: 3,
      [`error.type=RangeError,${op('flaky')}`]: 2,
    });
    expect(points(metric(got, 'messaging.client.consumed.messages'))).toEqual({ [op('ok')]: 3, [op('flaky')]: 2 });
    expect(points(metric(got, 'nest_scale.queue.retries'))).toEqual({ [op('ok')]: 0, [op('flaky')]: 1 });
    expect(points(metric(got, 'nest_scale.queue.tasks'))).toEqual({
      'state=waiting': 0,
      'state=active': 0,
      'state=delayed': 0,
      'state=dead': 1,
      'state=completed': 3,
    });
    const process = metric(got, 'messaging.process.duration_seconds')!;
    expect(process.descriptor.unit).toBe('s');
    for (const point of process.dataPoints) {
      const { sum, count } = point.value as { sum: number; count: number };
      expect(sum / count).toBeGreaterThanOrEqual(0);
      expect(sum / count).toBeLessThan(10);
    }
  });

  it('is named after the package, with its version', async () => {
    const reader = registerMeterProvider();
    const { queue } = await bootApp(makeOptions());
    await queue.enqueue('ok', 1);
    const scopes = (await collect(reader)).scopeMetrics.map((s) => s.scope);
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
      name: string;
      version: string;
    };
    expect(scopes).toContainEqual(expect.objectContaining({ name: pkg.name, version: pkg.version }));
    expect([INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION]).toEqual([pkg.name, pkg.version]);
  });
});

describe('task-queue metrics of jobs another producer wrote', () => {
  it('bullmq: a job of a name no handler declares goes dead and is counted under its name', async () => {
    const reader = registerMeterProvider();
    const options = { driver: 'bullmq' as const, connection: { url: redisUrl() }, prefix: uniquePrefix('tq-otel') };
    await bootApp(options);
    const raw = new Queue(QUEUE, { connection: { url: redisUrl() }, prefix: options.prefix });
    try {
      await raw.add('ghost', 1);
    } finally {
      await raw.close();
    }
    await vi.waitFor(async () =>
      expect(points(metric(await collect(reader), 'nest_scale.queue.dead_tasks'))).toEqual({ [op('ghost')]: 1 }),
    );
    // Never run, so never taken for a run nor timed.
    const got = await collect(reader);
    expect(points(metric(got, 'messaging.client.consumed.messages'))).toEqual({ [op('ghost')]: 0 });
    expect(metric(got, 'messaging.process.duration_seconds')).toBeUndefined();
  });
});

describe('task-queue metrics when the enqueue fails', () => {
  it('memory, after shutdown: error.type on the sent count and the enqueue duration', async () => {
    const reader = registerMeterProvider();
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.enqueue('ok', 1);
    await queue.beforeApplicationShutdown();
    await expect(queue.enqueue('ok', 2)).rejects.toBeInstanceOf(TaskEnqueueError);
    await expect(queue.enqueueMany([{ name: 'ok' }, { name: 'flaky' }])).rejects.toBeInstanceOf(TaskEnqueueError);
    const got = await collect(reader);
    const failed = (name: string) => `error.type=TaskEnqueueError,${op(name)}`;
    expect(points(metric(got, 'messaging.client.sent.messages'))).toEqual({
      [op('ok')]: 1,
      [failed('ok')]: 2,
      [op('flaky')]: 0,
      [failed('flaky')]: 1,
    });
    expect(points(metric(got, 'messaging.client.operation.duration_seconds'))).toEqual({
      [op('ok')]: 1,
      [failed('ok')]: 2,
      [failed('flaky')]: 1,
    });
  });

  it('bullmq, Redis down: the enqueue fails with error.type, and the depth gauge skips its points without an error', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
    const server = await RedisServer.start();
    try {
      const reader = registerMeterProvider();
      const { queue } = await bootApp({
        driver: 'bullmq',
        connection: { url: server.url },
        enqueueTimeoutMs: 300,
        shutdownDeadlineMs: 200,
      });
      await queue.enqueue('ok', 1);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      expect(points(metric(await collect(reader), 'nest_scale.queue.tasks'))['state=completed']).toBe(1);
      await server.stop();
      await expect(queue.enqueue('ok', 2)).rejects.toBeInstanceOf(TaskEnqueueError);
      // collect() asserts that the SDK reports no error: the failed read never reaches it. The read observed
      // nothing; with cumulative temporality the SDK repeats the last points it had.
      const got = await collect(reader);
      expect(points(metric(got, 'nest_scale.queue.tasks'))).toEqual({
        'state=waiting': 0,
        'state=active': 0,
        'state=delayed': 0,
        'state=dead': 0,
        'state=completed': 1,
      });
      expect(points(metric(got, 'messaging.client.sent.messages'))).toEqual({
        [op('ok')]: 1,
        [`error.type=TaskEnqueueError,${op('ok')}`]: 1,
      });
    } finally {
      await closeAll();
      await server.stop();
    }
  });
});

describe('the Prometheus exporter with TASK_QUEUE_PROMETHEUS_VIEWS', () => {
  it('names every task-queue series as monitoring/README.md lists, with its labels', async () => {
    const reader = registerMeterProvider();
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.enqueueMany([{ name: 'ok' }, { name: 'flaky' }]);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    await queue.beforeApplicationShutdown();
    await expect(queue.enqueue('ok')).rejects.toBeInstanceOf(TaskEnqueueError);
    const text = new PrometheusSerializer().serialize(await collect(reader));
    const readme = readFileSync(new URL('../../../../monitoring/README.md', import.meta.url), 'utf8');
    // | `name` | type | `label` (`value`, …), `label` | … |
    const rows = [...readme.matchAll(/^\| `((?:messaging|nest_scale_queue)_\w+)` \| (\w+) \| ([^|]*) \|/gm)];
    expect(rows.map((r) => r[1])).toHaveLength(7);
    for (const [, name, type, labelCell] of rows) {
      expect(text).toContain(`# TYPE ${name} ${type}`);
      const documented = [...labelCell.replaceAll(/\([^)]*\)/g, '').matchAll(/`(\w+)`/g)].map((m) => m[1]);
      const series = type === 'histogram' ? `${name}_bucket` : name;
      const lines = text.split('\n').filter((l) => l.startsWith(`${series}{`));
      expect(lines.length, `${series} series`).toBeGreaterThan(0);
      const labels = new Set(
        lines
          .flatMap((l) => [...l.matchAll(/(\w+)="/g)].map((m) => m[1]))
          .filter((l) => !l.startsWith('otel_') && l !== 'le'),
      );
      expect({ name, labels: [...labels].toSorted() }).toEqual({ name, labels: documented.toSorted() });
    }
    expect(text).toMatch(
      /^messaging_process_duration_seconds_count\{messaging_destination_name="otel-tasks",messaging_operation_name="flaky",error_type="RangeError"[^}]*\} 2$/m,
    );
    expect(text).toMatch(/^nest_scale_queue_dead_tasks_total\{[^}]*messaging_operation_name="flaky"[^}]*\} 1$/m);
  });

  it('without the views the histograms have no _seconds suffix, which is why the lib exports them', async () => {
    const reader = new PrometheusExporter({ preventServerStart: true });
    metrics.setGlobalMeterProvider(new MeterProvider({ readers: [reader] }));
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.enqueue('ok');
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    const text = new PrometheusSerializer().serialize(await collect(reader));
    expect(text).toContain('# TYPE messaging_process_duration histogram');
    expect(text).not.toContain('messaging_process_duration_seconds');
  });
});

describe.each(DRIVERS)('the task queue without an OpenTelemetry SDK, %s driver', (_driver, makeOptions) => {
  it('runs tasks untraced: no active span in a handler, nothing thrown', async () => {
    context.setGlobalContextManager(new AsyncHooksContextManager().enable());
    propagation.setGlobalPropagator(traceparent);
    const { queue, seen } = await bootApp(makeOptions());
    const ref = await queue.enqueue('ok', 1);
    await queue.enqueueMany([{ name: 'ok' }, { name: 'flaky' }]);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    expect(seen.activeSpans.map((s) => [s.name, s.spanId])).toEqual([
      ['ok', undefined],
      ['ok', undefined],
      ['flaky', undefined],
      ['flaky', undefined],
    ]);
    expect(await queue.getTask(ref.id)).toMatchObject({ state: 'completed' });
  });

  it('an app created before the MeterProvider is registered records nothing; one created after does', async () => {
    const before = await bootApp(makeOptions());
    const reader = registerMeterProvider();
    const after = await bootApp({ ...makeOptions(), queueName: `${QUEUE}-after` });
    await before.queue.enqueue('ok', 1);
    await after.queue.enqueue('ok', 1);
    const queues = new Set(
      (await collect(reader)).scopeMetrics.flatMap((s) =>
        s.metrics.flatMap((m) => m.dataPoints.map((p) => p.attributes['messaging.destination.name'])),
      ),
    );
    expect([...queues]).toEqual([`${QUEUE}-after`]);
  });
});

describe('the bullmq driver without a tracer provider', () => {
  it('stores no trace context in the job', async () => {
    propagation.setGlobalPropagator(traceparent);
    const prefix = uniquePrefix('tq-otel');
    const { queue } = await bootApp({ driver: 'bullmq', connection: { url: redisUrl() }, prefix, workers: false });
    const ref = await queue.enqueue('ok', 1);
    const raw = new Queue(QUEUE, { connection: { url: redisUrl() }, prefix });
    try {
      const job = await raw.getJob(ref.id);
      expect(job?.name).toBe('ok');
      expect(job?.opts.telemetry).toBeUndefined();
    } finally {
      await raw.close();
    }
  });
});
