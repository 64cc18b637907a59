import { propagation, SpanKind, SpanStatusCode, trace, type TextMapPropagator } from '@opentelemetry/api';
import type { ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { Queue } from 'bullmq';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { INSTRUMENTATION_NAME, INSTRUMENTATION_VERSION } from './telemetry-names.js';
import { bootApp, closeAll, DRIVERS, QUEUE, registerTracerProvider, traceparent } from './telemetry.fixture.js';

afterEach(closeAll);

const byName = (spans: ReadableSpan[], name: string) => spans.filter((s) => s.name === name);
const parentOf = (span: ReadableSpan) => span.parentSpanContext?.spanId;
const idOf = (span: ReadableSpan) => span.spanContext().spanId;

describe.each(DRIVERS)('task-queue spans on the %s driver', (_driver, makeOptions) => {
  it('an enqueue is a PRODUCER span under the caller; the run a CONSUMER span under it, active in the handler', async () => {
    const spans = registerTracerProvider();
    const { queue, seen } = await bootApp(makeOptions());
    const ref = await trace.getTracer('test').startActiveSpan('caller', async (caller) => {
      const added = await queue.enqueue('ok', { n: 1 });
      caller.end();
      return added;
    });
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    await vi.waitFor(() => expect(byName(spans.getFinishedSpans(), 'work')).toHaveLength(1));
    const finished = spans.getFinishedSpans();
    const [caller] = byName(finished, 'caller');
    const [send] = byName(finished, `send ${QUEUE}`);
    const [processed] = byName(finished, `process ${QUEUE}`);
    const [work] = byName(finished, 'work');
    expect(send.kind).toBe(SpanKind.PRODUCER);
    expect(parentOf(send)).toBe(idOf(caller));
    expect(send.instrumentationScope).toMatchObject({ name: INSTRUMENTATION_NAME, version: INSTRUMENTATION_VERSION });
    expect(send.attributes).toEqual({
      'messaging.system': 'nest_scale',
      'messaging.destination.name': QUEUE,
      'messaging.operation.name': 'send',
      'messaging.operation.type': 'send',
      'nest_scale.queue.task': 'ok',
      'messaging.message.id': ref.id,
    });
    expect(processed.kind).toBe(SpanKind.CONSUMER);
    expect(parentOf(processed)).toBe(idOf(send));
    expect(processed.spanContext().traceId).toBe(caller.spanContext().traceId);
    expect(processed.attributes).toEqual({
      'messaging.system': 'nest_scale',
      'messaging.destination.name': QUEUE,
      'messaging.operation.name': 'process',
      'messaging.operation.type': 'process',
      'nest_scale.queue.task': 'ok',
      'messaging.message.id': ref.id,
      'nest_scale.queue.attempt': 1,
    });
    expect(processed.status.code).toBe(SpanStatusCode.UNSET);
    // The handler's own span nests under the run's span, which was the active one while it ran.
    expect(parentOf(work)).toBe(idOf(processed));
    expect(seen.activeSpans).toEqual([
      { name: 'ok', spanId: idOf(processed), traceId: processed.spanContext().traceId },
    ]);
  });

  it('each attempt of a retried task is a CONSUMER span with its attempt number, ERROR with the exception', async () => {
    const spans = registerTracerProvider();
    const { queue } = await bootApp(makeOptions());
    await queue.enqueue('flaky');
    await vi.waitFor(() => expect(byName(spans.getFinishedSpans(), `process ${QUEUE}`)).toHaveLength(2), {
      timeout: 10_000,
    });
    const finished = spans.getFinishedSpans();
    const [send] = byName(finished, `send ${QUEUE}`);
    const runs = byName(finished, `process ${QUEUE}`);
    expect(
      runs.map((r) => [
        r.attributes['nest_scale.queue.attempt'],
        parentOf(r),
        r.status,
        r.attributes['error.type'],
        r.events.map((e) => [e.name, e.attributes?.['exception.message']]),
      ]),
    ).toEqual(
      [1, 2].map((attempt) => [
        attempt,
        idOf(send),
        { code: SpanStatusCode.ERROR, message: 'flaky failed' },
        'RangeError',
        [['exception', 'flaky failed']],
      ]),
    );
  });

  it('enqueueMany is one PRODUCER span that every task of the call carries', async () => {
    const spans = registerTracerProvider();
    const { queue } = await bootApp(makeOptions());
    await queue.enqueueMany([{ name: 'ok' }, { name: 'ok' }]);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    await vi.waitFor(() => expect(byName(spans.getFinishedSpans(), `process ${QUEUE}`)).toHaveLength(2));
    const finished = spans.getFinishedSpans();
    const sends = byName(finished, `send ${QUEUE}`);
    expect(sends).toHaveLength(1);
    expect(sends[0].attributes['messaging.batch.message_count']).toBe(2);
    expect(sends[0].attributes['nest_scale.queue.task']).toBeUndefined();
    expect(byName(finished, `process ${QUEUE}`).map(parentOf)).toEqual([idOf(sends[0]), idOf(sends[0])]);
  });

  it('a batch handler call is one CONSUMER span linked to each task producer; ERROR when an item failed', async () => {
    const spans = registerTracerProvider();
    const { queue } = await bootApp(makeOptions());
    for (const payload of ['a', 'bad', 'c']) await queue.enqueue('bulk', payload);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    const sends = byName(spans.getFinishedSpans(), `send ${QUEUE}`);
    // A worker may hand the batch over in more than one call; every task is linked from exactly one of them.
    await vi.waitFor(() => {
      const links = byName(spans.getFinishedSpans(), `process ${QUEUE}`).flatMap((b) => b.links);
      expect(links.length).toBeGreaterThanOrEqual(3);
    });
    const batches = byName(spans.getFinishedSpans(), `process ${QUEUE}`);
    for (const batch of batches) {
      expect(batch.parentSpanContext).toBeUndefined();
      expect(batch.attributes['messaging.batch.message_count']).toBe(batch.links.length);
    }
    const linked = batches.flatMap((b) => b.links.map((l) => l.context.spanId));
    expect(linked.toSorted()).toEqual(sends.map(idOf).toSorted());
    const failed = batches.filter((b) => b.status.code === SpanStatusCode.ERROR);
    expect(failed.length).toBeGreaterThanOrEqual(1);
    expect(failed[0].attributes['nest_scale.queue.batch.failed']).toBe(1);
    expect(failed[0].events.map((e) => e.attributes?.['exception.message'])).toEqual(['bad item']);
  });
});

describe('task-queue spans: hostile trace contexts', () => {
  it('bullmq: jobs whose stored trace field is garbage (or from another writer) run, as root CONSUMER spans', async () => {
    const spans = registerTracerProvider();
    const options = { driver: 'bullmq' as const, connection: { url: redisUrl() }, prefix: uniquePrefix('tq-otel') };
    const { queue, seen } = await bootApp(options);
    const raw = new Queue(QUEUE, { connection: { url: redisUrl() }, prefix: options.prefix });
    const garbage: unknown[] = [
      'not json',
      '[1,2]',
      'null',
      '42',
      JSON.stringify({ traceparent: 5 }),
      JSON.stringify({ traceparent: '00-zz-zz-01' }),
      JSON.stringify({ traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`.padEnd(10_000, 'x') }),
      JSON.stringify(Object.fromEntries(Array.from({ length: 1_000 }, (_, i) => [`k${i}`, 'v']))),
      { not: 'a string' },
    ];
    try {
      for (const metadata of garbage) {
        await raw.add('ok', 1, { telemetry: { metadata: metadata as string }, removeOnComplete: true });
      }
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
    } finally {
      await raw.close();
    }
    expect(seen.activeSpans).toHaveLength(garbage.length);
    const runs = byName(spans.getFinishedSpans(), `process ${QUEUE}`);
    expect(runs.map((r) => [r.parentSpanContext, r.status.code])).toEqual(
      garbage.map(() => [undefined, SpanStatusCode.UNSET]),
    );
  });

  it('bullmq: a job written by another producer with a valid W3C carrier is continued', async () => {
    const spans = registerTracerProvider();
    const options = { driver: 'bullmq' as const, connection: { url: redisUrl() }, prefix: uniquePrefix('tq-otel') };
    const { queue } = await bootApp(options);
    const raw = new Queue(QUEUE, { connection: { url: redisUrl() }, prefix: options.prefix });
    const [traceId, spanId] = ['c'.repeat(32), 'd'.repeat(16)];
    try {
      await raw.add('ok', 1, {
        telemetry: { metadata: JSON.stringify({ traceparent: `00-${traceId}-${spanId}-01` }) },
      });
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
    } finally {
      await raw.close();
    }
    const [run] = byName(spans.getFinishedSpans(), `process ${QUEUE}`);
    expect([run.spanContext().traceId, parentOf(run)]).toEqual([traceId, spanId]);
  });

  it('memory: a propagator that throws on extract does not stop the task', async () => {
    const throwing: TextMapPropagator = {
      ...traceparent,
      extract: () => {
        throw new Error('broken propagator');
      },
    };
    const spans = registerTracerProvider(throwing);
    const { queue, seen } = await bootApp({ driver: 'memory' });
    await queue.enqueue('ok', 1);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    expect(seen.activeSpans).toHaveLength(1);
    const [run] = byName(spans.getFinishedSpans(), `process ${QUEUE}`);
    expect([run.parentSpanContext, run.status.code]).toEqual([undefined, SpanStatusCode.UNSET]);
  });

  it('a failed enqueue ends its PRODUCER span in ERROR', async () => {
    const spans = registerTracerProvider();
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.beforeApplicationShutdown();
    await expect(queue.enqueue('ok', 1)).rejects.toBeInstanceOf(TaskEnqueueError);
    const [send] = byName(spans.getFinishedSpans(), `send ${QUEUE}`);
    expect([send.status.code, send.attributes['error.type'], send.events.map((e) => e.name)]).toEqual([
      SpanStatusCode.ERROR,
      'TaskEnqueueError',
      ['exception'],
    ]);
  });
});

describe('a tracer provider registered after the app started', () => {
  it('is picked up within 64 enqueues and runs (the lookup is cached in between)', async () => {
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.enqueue('ok', 0);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    const spans = registerTracerProvider();
    for (let i = 1; i <= 64; i++) await queue.enqueue('ok', i);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    expect(byName(spans.getFinishedSpans(), `send ${QUEUE}`).length).toBeGreaterThan(0);
    expect(byName(spans.getFinishedSpans(), `process ${QUEUE}`).length).toBeGreaterThan(0);
  });
});

describe('task-queue spans without a propagator', () => {
  it('the consumer span starts a trace of its own (nothing could be carried)', async () => {
    const spans = registerTracerProvider();
    propagation.disable();
    const { queue } = await bootApp({ driver: 'memory' });
    await queue.enqueue('ok', 1);
    await queue.waitUntilIdle({ timeoutMs: 10_000 });
    const [send] = byName(spans.getFinishedSpans(), `send ${QUEUE}`);
    const [run] = byName(spans.getFinishedSpans(), `process ${QUEUE}`);
    expect(run.parentSpanContext).toBeUndefined();
    expect(run.spanContext().traceId).not.toBe(send.spanContext().traceId);
  });
});
