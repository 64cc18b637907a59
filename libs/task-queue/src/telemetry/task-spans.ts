import {
  type Context,
  isSpanContextValid,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanStatusCode,
  trace,
} from '@opentelemetry/api';
import { ATTR_ATTEMPT, ATTR_BATCH_FAILED, ATTR_ERROR_TYPE, ATTR_MESSAGE_ID } from './telemetry-names.js';

/**
 * @internal What `propagation.inject` wrote for a task's PRODUCER span (W3C `traceparent`/`tracestate` with the
 * default propagator), stored with the task: in the memory driver's record, and as BullMQ's own
 * `opts.telemetry.metadata` (a JSON string, the field and format bullmq-otel uses).
 */
export type TraceCarrier = Record<string, string>;

/** A carrier read back from a task is foreign data (another version, another app): at most this many entries. */
const MAX_CARRIER_ENTRIES = 16;
const MAX_CARRIER_VALUE_LENGTH = 4_096;

/** @internal The end of one attempt's CONSUMER span (a batch's attempts share theirs). */
export interface RunTrace {
  done(error: unknown, failed: boolean): void;
}

/** The class name of what was thrown, for `error.type` (`_OTHER` for a non-Error). */
export function errorType(error: unknown): string {
  return error instanceof Error ? error.constructor.name || 'Error' : '_OTHER';
}

/** Records `error` on `span` and marks it failed. */
export function fail(span: Span, error: unknown): void {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : undefined });
  span.setAttribute(ATTR_ERROR_TYPE, errorType(error));
}

/** The carrier to store with a task: what the propagator wrote for `span`, or undefined when it wrote nothing. */
export function injectCarrier(span: Span): TraceCarrier | undefined {
  const carrier: TraceCarrier = {};
  propagation.inject(trace.setSpan(ROOT_CONTEXT, span), carrier);
  return Object.keys(carrier).length > 0 ? carrier : undefined;
}

/**
 * The producer's context from a stored carrier (an object, or BullMQ's JSON string), on the root context: the
 * consumer span never inherits whatever happened to be active when the worker picked the task up. Anything
 * malformed (not JSON, not an object, non-string values, a propagator that throws) gives the root context, and the
 * task runs untraced-to-its-producer rather than failing.
 */
export function producerContext(stored: unknown): Context {
  const carrier = readCarrier(stored);
  if (carrier === undefined) return ROOT_CONTEXT;
  try {
    return propagation.extract(ROOT_CONTEXT, carrier);
  } catch {
    return ROOT_CONTEXT;
  }
}

/** A link to the producer of each attempt of a batch (those whose carrier holds a valid span context). */
export function producerLinks(runs: readonly { id: string; attempt: number; traceCarrier(): unknown }[]): Link[] {
  const links: Link[] = [];
  for (const run of runs) {
    const spanContext = trace.getSpanContext(producerContext(run.traceCarrier()));
    if (spanContext !== undefined && isSpanContextValid(spanContext)) {
      links.push({ context: spanContext, attributes: { [ATTR_MESSAGE_ID]: run.id, [ATTR_ATTEMPT]: run.attempt } });
    }
  }
  return links;
}

function readCarrier(stored: unknown): TraceCarrier | undefined {
  let value = stored;
  if (typeof value === 'string') {
    try {
      value = JSON.parse(value);
    } catch {
      return undefined;
    }
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return undefined;
  const carrier: TraceCarrier = {};
  let entries = 0;
  for (const [key, entry] of Object.entries(value)) {
    if (typeof entry !== 'string' || entry.length > MAX_CARRIER_VALUE_LENGTH) continue;
    if (++entries > MAX_CARRIER_ENTRIES) break;
    carrier[key] = entry;
  }
  return entries === 0 ? undefined : carrier;
}

/** @internal One attempt's span: ends with the attempt. */
export class RunSpan implements RunTrace {
  constructor(private readonly span: Span) {}

  done(error: unknown, failed: boolean): void {
    if (failed) fail(this.span, error);
    this.span.end();
  }
}

/**
 * @internal The span of one batch call, shared by its attempts: it ends when the last one settles (the call, or
 * the batch timeout), ERROR when any failed. An error is recorded once however many attempts it failed.
 */
export class BatchSpan implements RunTrace {
  private remaining: number;
  private failed = 0;
  private lastError: unknown;

  constructor(
    private readonly span: Span,
    size: number,
  ) {
    this.remaining = size;
  }

  done(error: unknown, failed: boolean): void {
    if (failed) {
      this.failed++;
      if (error !== this.lastError) {
        this.lastError = error;
        fail(this.span, error);
      }
    }
    if (--this.remaining > 0) return;
    this.span.setAttribute(ATTR_BATCH_FAILED, this.failed);
    this.span.end();
  }
}
