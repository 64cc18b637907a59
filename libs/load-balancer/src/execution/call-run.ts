import type { Clock, TimerHandle } from '../clock/clock.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import { HEDGE_LOST } from '../load-balancer.messages.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { RetryBudget } from '../retry/retry-budget.js';
import type { HedgeBudget } from './hedge-budget.js';
import { RunningTry, type BalancedCall, type TryAccounting, type TryContext, type TryOutcome } from './running-try.js';

/**
 * A node is silent once it has answered none of its running tries for this many of its expected gaps between
 * answers (latency ÷ tries running). With answers arriving at random that happens by chance e^-4 ≈ 2 % of
 * the time; a node paused by a stop-the-world GC or a stuck event loop is silent for the whole pause.
 */
const SILENT_GAPS = 4;

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
  /** The `percentile`-th of the balancer's recent successful latencies, or undefined with too few samples. */
  latencyPercentile(percentile: number): number | undefined;
}

/** A hedge policy with defaults applied. */
export interface HedgePlan {
  readonly delayMs: number | undefined;
  readonly percentile: number | undefined;
  readonly maxExtra: number;
  readonly onSilence: boolean;
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
  /** The try a silence check watches and when its regular hedge is due. */
  private watched: RunningTry<T> | undefined;
  private hedgeAt = 0;
  private onSilenceCheck: (() => void) | undefined;
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
    if (this.plan.hedge !== undefined) this.services.hedgeBudget.callStarted();
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
    const delayMs = hedge.delayMs ?? this.services.selector.latencyPercentile(hedge.percentile!);
    if (delayMs === undefined) return;
    const hedgeAt = t.startedAt + Math.max(0, delayMs);
    if (hedgeAt >= this.deadlineAt) return;
    this.watched = t;
    this.hedgeAt = hedgeAt;
    this.armHedge(hedge.onSilence);
  }

  /**
   * Sets the hedge timer: at `hedgeAt`, or with `watchSilence` at the moment the watched try's node would turn silent
   * if no answer comes first. A silence check that finds the node answering again sets the timer anew.
   */
  private armHedge(watchSilence: boolean): void {
    const { clock } = this.services;
    if (this.hedgeTimer !== undefined) clock.clearTimeout(this.hedgeTimer);
    const now = clock.now();
    const silentAt = watchSilence ? this.silentAt(this.watched!.node) : Number.POSITIVE_INFINITY;
    if (silentAt < this.hedgeAt) {
      this.onSilenceCheck ??= () => this.silenceCheck();
      this.hedgeTimer = clock.setTimeout(this.onSilenceCheck, Math.max(0, silentAt - now));
    } else {
      this.hedgeTimer = clock.setTimeout(() => this.sendHedge(), Math.max(0, this.hedgeAt - now));
    }
  }

  /**
   * When `node` turns silent if it answers nothing before: `SILENT_GAPS` expected gaps after its last progress. The
   * gap uses the balancer's median latency when that is higher than the node's estimate, which decays toward 0
   * while a node is idle; without latency samples nothing is ever silent.
   */
  private silentAt(node: UpstreamNode): number {
    const { selector } = this.services;
    const median = selector.latencyPercentile(50);
    if (median === undefined) return Number.POSITIVE_INFINITY;
    const latencyMs = Math.max(median, selector.expectedLatencyMs(node));
    return node.progressAt + (SILENT_GAPS * latencyMs) / Math.max(1, node.inFlight);
  }

  private silenceCheck(): void {
    this.hedgeTimer = undefined;
    const t = this.watched!;
    if (this.done) return;
    // The watched try failed while an earlier one runs on: a further hedge is still due at the regular time.
    if (t.settled) return this.armHedge(false);
    if (this.silentAt(t.node) > this.services.clock.now()) return this.armHedge(true);
    // A silence hedge the budget cannot pay for now may still be paid for at the regular time.
    if (!this.sendHedge()) this.armHedge(false);
  }

  /** Sends a hedge when the call, the budget and a node without a try of this call allow; true when it did. */
  private sendHedge(): boolean {
    this.hedgeTimer = undefined;
    if (this.done || this.running.length === 0 || this.hedgesLeft <= 0) return true;
    const { hedgeBudget, selector } = this.services;
    if (!hedgeBudget.tryWithdraw()) return false;
    const node = selector.pickExcluding(this.plan.key, this.tried!);
    if (node === undefined || this.tried!.has(node)) {
      // Every selectable node already has a try of this call: a second try on one of them hedges nothing.
      if (node !== undefined) selector.release(node);
      hedgeBudget.refund();
      return true;
    }
    this.hedgesLeft--;
    this.launch(node, true);
    return true;
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
    if (this.plan.hedge !== undefined) this.services.hedgeBudget.callEnded();
    if (this.deadlineTimer !== undefined) clock.clearTimeout(this.deadlineTimer);
    if (this.hedgeTimer !== undefined) clock.clearTimeout(this.hedgeTimer);
    this.plan.signal?.removeEventListener('abort', this.onAbort);
    return true;
  }
}
