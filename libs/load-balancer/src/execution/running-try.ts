import type { Clock, TimerHandle } from '../clock/clock.js';
import { TryTimeoutError } from '../errors/try-timeout.error.js';
import type { UpstreamNode } from '../node/upstream-node.js';

/**
 * How a try ended for the health model: `cancelled` tries are not evidence about the node; `outlasted` ones were
 * stopped because another try of the call answered first, so their time is only a lower bound of the node's latency.
 */
export type TryOutcome = 'success' | 'failure' | 'outlasted' | 'cancelled';

/** What `fn` learns about its try (third argument of a `BalancedCall`). @publicApi */
export interface TryContext {
  /** 0 for the first try; each retry or hedge adds one. */
  readonly attempt: number;
  /** Whether this try is a hedge sent while an earlier try is still running. */
  readonly hedge: boolean;
  /** Milliseconds left of the call's deadline when this try started; undefined without a deadline. */
  readonly remainingMs: number | undefined;
}

/** The function `execute` runs against the picked node. @publicApi */
export type BalancedCall<T> = (node: UpstreamNode, signal: AbortSignal, context: TryContext) => Promise<T> | T;

/** Where a try's in-flight count and outcome go (the balancer wires the strategy, health model and membership). */
export interface TryAccounting {
  started(node: UpstreamNode): void;
  /**
   * `error` is what ended a try that did not succeed (a `TryTimeoutError` at its timeout); `answered` is whether `fn`
   * settled by itself, so the node gave an answer, rather than being stopped (timeout, deadline, abort, lost hedge).
   */
  finished(node: UpstreamNode, outcome: TryOutcome, latencyMs: number, error: unknown, answered: boolean): void;
}

export type TrySettled<T> = (attempt: RunningTry<T>, outcome: TryOutcome, value: T | undefined, error: unknown) => void;

/**
 * One try of a call on one node: owns the try's AbortController and timeout timer, and settles exactly once, either
 * when `fn` settles, at its timeout, or when the call stops it (caller abort, deadline, a hedge that won).
 */
export class RunningTry<T> {
  readonly controller = new AbortController();
  readonly startedAt: number;
  private timer: TimerHandle | undefined;
  private done = false;

  constructor(
    readonly node: UpstreamNode,
    private readonly clock: Clock,
    private readonly accounting: TryAccounting,
    private readonly onSettled: TrySettled<T>,
  ) {
    this.startedAt = clock.now();
  }

  get settled(): boolean {
    return this.done;
  }

  get elapsedMs(): number {
    return this.clock.now() - this.startedAt;
  }

  run(fn: BalancedCall<T>, timeoutMs: number | undefined, context: TryContext): void {
    this.accounting.started(this.node);
    if (timeoutMs !== undefined) {
      this.timer = this.clock.setTimeout(() => {
        const error = new TryTimeoutError(this.node.id, timeoutMs);
        this.stop('failure', error);
      }, timeoutMs);
    }
    let result: Promise<T> | T;
    try {
      result = fn(this.node, this.controller.signal, context);
    } catch (error) {
      this.finish('failure', undefined, error, true);
      return;
    }
    Promise.resolve(result).then(
      (value) => this.finish('success', value, undefined, true),
      (error: unknown) => this.finish('failure', undefined, error, true),
    );
  }

  /** Aborts `fn`'s signal with `reason` and settles the try with `outcome` (a no-op once settled). */
  stop(outcome: TryOutcome, reason: unknown): void {
    if (this.done) return;
    this.controller.abort(reason);
    this.finish(outcome, undefined, reason, false);
  }

  private finish(outcome: TryOutcome, value: T | undefined, error: unknown, answered: boolean): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.accounting.finished(this.node, outcome, this.clock.now() - this.startedAt, error, answered);
    this.onSettled(this, outcome, value, error);
  }
}
