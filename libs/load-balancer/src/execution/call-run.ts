import type { Clock, TimerHandle } from '../clock/clock.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import { HEDGE_LOST } from '../load-balancer.messages.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { RetryBudget } from '../retry/retry-budget.js';
import type { HedgeBudget } from './hedge-budget.js';
import { RunningTry, type BalancedCall, type TryAccounting, type TryContext, type TryOutcome } from './running-try.js';

/** The nodes a call may use: picks that already went through admission (probe slots, slow start). */
export interface TrySelector {
  /** Throws `NoAvailableNodeError` when nothing can serve. */
  pick(key: string | undefined): UpstreamNode;
  /** A node not in `excluded` when one is left, else an excluded one, else undefined. */
  pickExcluding(key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined;
  /** Gives back what `pick` reserved on a node the call will not use after all (a half-open probe slot). */
  release(node: UpstreamNode): void;
  /** Time a try on `node` is expected to take (its latency estimate), so a retry is not started without it. */
  expectedLatencyMs(node: UpstreamNode): number;
  /** The `percentile`-th of the node's recent successful latencies, or undefined with too few samples. */
  latencyPercentile(node: UpstreamNode, percentile: number): number | undefined;
}

/** A hedge policy with defaults applied. */
export interface HedgePlan {
  readonly delayMs: number | undefined;
  readonly percentile: number | undefined;
  readonly maxExtra: number;
}

/** One `execute` call with its options resolved. */
export interface CallPlan<T> {
  readonly balancer: string;
  readonly fn: BalancedCall<T>;
  readonly key: string | undefined;
  readonly retries: number;
  readonly timeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly retryOn: (error: unknown) => boolean;
  readonly hedge: HedgePlan | undefined;
}

export interface CallServices {
  readonly clock: Clock;
  readonly selector: TrySelector;
  readonly accounting: TryAccounting;
  readonly retryBudget: RetryBudget | undefined;
  readonly hedgeBudget: HedgeBudget;
  /** Metrics and traces of calls; none in bare executors. */
  readonly telemetry?: CallTelemetry;
}

/** What calls report beyond the per-try accounting (the balancer's OpenTelemetry instruments). */
export interface CallTelemetry {
  /** A retry was started. */
  retried(): void;
  /** The trace of a new call, or undefined when no tracer provider is registered (then no span work at all). */
  traceCall(): CallTrace | undefined;
}

/** The spans of one call: the call's own and one per try. */
export interface CallTrace {
  /** Runs `start` (which calls `fn`) with the try's span as the active context. `tryKey` identifies the try. */
  runTry(tryKey: object, node: UpstreamNode, context: TryContext, start: () => void): void;
  tryEnded(tryKey: object, outcome: TryOutcome, error: unknown): void;
  /** The call settled: with `error` when `failed`. */
  ended(failed: boolean, error: unknown): void;
}

/**
 * The life of one call: the first try, hedges while a try is slow, retries after every running try failed, all inside
 * one deadline. Settles exactly once: with the first success, the last failure when no retry may start, the caller's
 * abort reason, or `DeadlineExceededError` when the deadline timer fires (whatever `fn` does with its signal).
 */
export class CallRun<T> {
  readonly promise: Promise<T>;
  private resolve!: (value: T) => void;
  private reject!: (error: unknown) => void;
  private readonly running: RunningTry<T>[] = [];
  private tried: Set<UpstreamNode> | undefined;
  private readonly deadlineAt: number;
  private deadlineTimer: TimerHandle | undefined;
  private hedgeTimer: TimerHandle | undefined;
  private attempts = 0;
  private failedRounds = 0;
  private hedgesLeft: number;
  private done = false;
  private readonly onTrySettled = (t: RunningTry<T>, outcome: TryOutcome, value: T | undefined, error: unknown) =>
    this.settledTry(t, outcome, value, error);
  private readonly onAbort = () => this.cancel(this.plan.signal!.reason);

  constructor(
    private readonly plan: CallPlan<T>,
    private readonly services: CallServices,
    private readonly trace: CallTrace | undefined,
  ) {
    this.promise = new Promise<T>((resolve, reject) => {
      this.resolve = resolve;
      this.reject = reject;
    });
    const now = services.clock.now();
    this.deadlineAt = plan.deadlineMs === undefined ? Number.POSITIVE_INFINITY : now + plan.deadlineMs;
    this.hedgesLeft = plan.hedge?.maxExtra ?? 0;
  }

  /** Starts the first try on `node` (already picked and admitted). */
  start(node: UpstreamNode): void {
    const { signal, deadlineMs } = this.plan;
    if (signal?.aborted) {
      this.services.selector.release(node);
      this.finish(undefined, signal.reason, false);
      return;
    }
    signal?.addEventListener('abort', this.onAbort, { once: true });
    if (deadlineMs !== undefined) this.deadlineTimer = this.services.clock.setTimeout(() => this.expire(), deadlineMs);
    this.launch(node, false);
  }

  private launch(node: UpstreamNode, hedge: boolean): void {
    const { clock } = this.services;
    const left = this.deadlineAt - clock.now();
    const timeoutMs = this.plan.timeoutMs;
    // The deadline timer ends the try when less time is left than a whole try timeout.
    const tryTimeout = timeoutMs !== undefined && timeoutMs < left ? timeoutMs : undefined;
    const context: TryContext = {
      attempt: this.attempts++,
      hedge,
      remainingMs: Number.isFinite(left) ? left : undefined,
    };
    const t = new RunningTry<T>(node, clock, this.services.accounting, this.onTrySettled);
    this.running.push(t);
    (this.tried ??= new Set()).add(node);
    const fn = this.plan.fn;
    if (this.trace === undefined) t.run(fn, tryTimeout, context);
    else this.trace.runTry(t, node, context, () => t.run(fn, tryTimeout, context));
    if (!t.settled) this.scheduleHedge(t);
  }

  private scheduleHedge(t: RunningTry<T>): void {
    const hedge = this.plan.hedge;
    if (hedge === undefined || this.hedgesLeft <= 0 || this.done) return;
    const delayMs = hedge.delayMs ?? this.services.selector.latencyPercentile(t.node, hedge.percentile!);
    if (delayMs === undefined) return;
    if (t.startedAt + delayMs >= this.deadlineAt) return;
    if (this.hedgeTimer !== undefined) this.services.clock.clearTimeout(this.hedgeTimer);
    this.hedgeTimer = this.services.clock.setTimeout(() => this.sendHedge(), Math.max(0, delayMs));
  }

  private sendHedge(): void {
    this.hedgeTimer = undefined;
    if (this.done || this.running.length === 0 || this.hedgesLeft <= 0) return;
    const { hedgeBudget, selector } = this.services;
    if (!hedgeBudget.tryWithdraw()) return;
    const node = selector.pickExcluding(this.plan.key, this.tried!);
    if (node === undefined || this.tried!.has(node)) {
      // Every selectable node already has a try of this call: a second try on one of them hedges nothing.
      if (node !== undefined) selector.release(node);
      hedgeBudget.refund();
      return;
    }
    this.hedgesLeft--;
    this.launch(node, true);
  }

  private settledTry(t: RunningTry<T>, outcome: TryOutcome, value: T | undefined, error: unknown): void {
    this.trace?.tryEnded(t, outcome, error);
    const index = this.running.indexOf(t);
    if (index >= 0) this.running.splice(index, 1);
    if (this.done) return;
    if (outcome === 'success') {
      this.close();
      this.stopLosers(t.elapsedMs);
      this.settle(true, value, undefined);
      return;
    }
    // Another try of this round may still answer.
    if (this.running.length > 0) return;
    this.retryOrFail(error);
  }

  private retryOrFail(error: unknown): void {
    const { plan, services } = this;
    if (this.hedgeTimer !== undefined) services.clock.clearTimeout(this.hedgeTimer);
    this.hedgeTimer = undefined;
    if (this.failedRounds++ >= plan.retries || !plan.retryOn(error)) return this.finish(undefined, error, false);
    if (services.retryBudget !== undefined && !services.retryBudget.tryWithdraw()) {
      return this.finish(undefined, error, false);
    }
    const next = services.selector.pickExcluding(plan.key, this.tried!);
    if (next === undefined) return this.finish(undefined, error, false);
    // No retry that could not finish before the deadline: the caller gets the real failure, not a timeout.
    const left = this.deadlineAt - services.clock.now();
    if (left < Math.max(1, services.selector.expectedLatencyMs(next))) {
      services.selector.release(next);
      return this.finish(undefined, error, false);
    }
    services.telemetry?.retried();
    this.launch(next, false);
  }

  /**
   * Ends the tries that lost to a hedge. One that ran longer than the winner tells the health model its node is at
   * least that slow (`outlasted`); one that started later ran for less and says nothing about its node.
   */
  private stopLosers(winnerElapsedMs: number): void {
    for (const loser of this.running.splice(0)) {
      const outcome: TryOutcome = loser.elapsedMs > winnerElapsedMs ? 'outlasted' : 'cancelled';
      loser.stop(outcome, new DOMException(HEDGE_LOST(this.plan.balancer, loser.node.id), 'AbortError'));
    }
  }

  private cancel(reason: unknown): void {
    if (!this.close()) return;
    for (const t of this.running.splice(0)) t.stop('cancelled', reason);
    this.settle(false, undefined, reason);
  }

  private expire(): void {
    this.deadlineTimer = undefined;
    if (!this.close()) return;
    const error = new DeadlineExceededError(this.plan.balancer, this.plan.deadlineMs!, this.attempts);
    // A try cut by the deadline did not answer in the time the caller had: a failure, as a try timeout is.
    for (const t of this.running.splice(0)) t.stop('failure', error);
    this.settle(false, undefined, error);
  }

  private finish(value: T | undefined, error: unknown, ok: boolean): void {
    if (!this.close()) return;
    this.settle(ok, value, error);
  }

  private settle(ok: boolean, value: T | undefined, error: unknown): void {
    this.trace?.ended(!ok, error);
    if (ok) this.resolve(value as T);
    else this.reject(error);
  }

  /** Marks the call settled and drops its timers and abort listener; false when it already was. */
  private close(): boolean {
    if (this.done) return false;
    this.done = true;
    const { clock } = this.services;
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    if (this.hedgeTimer !== undefined) clock.clearTimeout(this.hedgeTimer);
    this.plan.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }
}
