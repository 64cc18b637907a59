import {
  context as otelContext,
  SpanKind,
  SpanStatusCode,
  trace,
  type Context,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import type { CallTrace } from '../execution/call-run.js';
import type { TryContext, TryOutcome } from '../execution/running-try.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import { isTimeout } from './try-outcome.js';
import { ATTR_ATTEMPT, ATTR_BALANCER, ATTR_HEDGE, ATTR_NODE, ATTR_TRIES, ATTR_TRY_OUTCOME } from './telemetry-names.js';

/**
 * The spans of one balanced call: a CLIENT span for the call (`execute <balancer>`, parent: the caller's active
 * context) and an INTERNAL child span per try (`try <balancer>`), retries and hedges included, with `retry` and
 * `hedge` events on the call span. `fn` runs with its try's span active, so spans it starts nest under the try.
 */
export class CallSpans implements CallTrace {
  private readonly span: Span;
  private readonly context: Context;
  private readonly tries = new Map<object, { span: Span; node: string }>();
  private started = 0;

  constructor(
    private readonly tracer: Tracer,
    private readonly balancer: string,
  ) {
    const parent = otelContext.active();
    this.span = tracer.startSpan(
      `execute ${balancer}`,
      { kind: SpanKind.CLIENT, attributes: { [ATTR_BALANCER]: balancer } },
      parent,
    );
    this.context = trace.setSpan(parent, this.span);
  }

  runTry(tryKey: object, node: UpstreamNode, context: TryContext, start: () => void): void {
    this.started++;
    if (context.attempt > 0) {
      this.span.addEvent(context.hedge ? 'hedge' : 'retry', { [ATTR_NODE]: node.id, [ATTR_ATTEMPT]: context.attempt });
    }
    const span = this.tracer.startSpan(
      `try ${this.balancer}`,
      {
        kind: SpanKind.INTERNAL,
        attributes: {
          [ATTR_BALANCER]: this.balancer,
          [ATTR_NODE]: node.id,
          [ATTR_ATTEMPT]: context.attempt,
          [ATTR_HEDGE]: context.hedge,
        },
      },
      this.context,
    );
    this.tries.set(tryKey, { span, node: node.id });
    otelContext.with(trace.setSpan(this.context, span), start);
  }

  tryEnded(tryKey: object, outcome: TryOutcome, error: unknown): void {
    const entry = this.tries.get(tryKey);
    if (entry === undefined) return;
    this.tries.delete(tryKey);
    const { span } = entry;
    span.setAttribute(ATTR_TRY_OUTCOME, outcome === 'failure' && isTimeout(error) ? 'timeout' : outcome);
    if (outcome === 'failure') recordError(span, error);
    else if (outcome === 'success') this.span.setAttribute(ATTR_NODE, entry.node);
    span.end();
  }

  ended(failed: boolean, error: unknown): void {
    this.span.setAttribute(ATTR_TRIES, this.started);
    if (failed) recordError(this.span, error);
    this.span.end();
  }
}

function recordError(span: Span, error: unknown): void {
  if (error instanceof Error) {
    span.recordException(error);
    span.setAttribute('error.type', error.name);
    span.setStatus({ code: SpanStatusCode.ERROR, message: error.message });
  } else {
    span.setAttribute('error.type', '_OTHER');
    span.setStatus({ code: SpanStatusCode.ERROR, message: String(error) });
  }
}
