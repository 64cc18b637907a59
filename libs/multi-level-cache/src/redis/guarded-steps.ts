import { circuitBreaker, CircuitState, ConsecutiveBreaker, handleAll, type CircuitBreakerPolicy } from 'cockatiel';
import type { L2BreakerState } from '../interfaces/cache-stats.interface.js';
import type { CallBudget } from './call-budget.js';

/** Returned by guarded operations that failed, timed out or were refused by the breaker. @internal */
export const FAILED = Symbol('l2-failed');

/** What bounds the steps of an L2 tier (Redis or another Keyv store). @internal */
export interface StepLimits {
  timeoutMs: number;
  breakerThreshold: number;
  breakerHalfOpenAfterMs: number;
}

/**
 * Every step of an L2 tier runs here: bounded by the call's time budget, behind a cockatiel circuit breaker, and
 * counted when it fails, so an L2 failure is never the caller's. @internal
 */
export class GuardedSteps {
  private readonly breaker: CircuitBreakerPolicy;
  /** Steps that failed, timed out or were refused (and records that could not be trusted). */
  errors = 0;

  constructor(private readonly limits: StepLimits) {
    this.breaker = circuitBreaker(handleAll, {
      halfOpenAfter: limits.breakerHalfOpenAfterMs,
      breaker: new ConsecutiveBreaker(limits.breakerThreshold),
    });
  }

  get breakerState(): L2BreakerState {
    switch (this.breaker.state) {
      case CircuitState.Closed:
        return 'closed';
      case CircuitState.Open:
        return 'open';
      case CircuitState.HalfOpen:
        return 'half-open';
      default:
        return 'isolated';
    }
  }

  /**
   * One step under the breaker, bounded by the call's remaining budget (a fresh `l2.timeoutMs` for background
   * work). A call whose budget is spent starts no further step: FAILED at once, not counted as an error.
   */
  async run<T>(fn: () => PromiseLike<T>, budget?: CallBudget): Promise<T | typeof FAILED> {
    const ms = this.stepMs(budget);
    if (ms === undefined) return FAILED;
    try {
      return await this.breaker.execute(() => withinBudget(fn(), ms));
    } catch {
      this.errors++;
      return FAILED;
    }
  }

  private stepMs(budget: CallBudget | undefined): number | undefined {
    if (budget === undefined) return this.limits.timeoutMs;
    const left = Math.min(budget.left(), this.limits.timeoutMs);
    return left >= 1 ? left : undefined;
  }

  /** One step bounded by the budget but not behind the breaker (see `RedisLink.publish`). */
  async unguarded<T>(fn: () => PromiseLike<T>, budget?: CallBudget): Promise<T | typeof FAILED> {
    const ms = this.stepMs(budget);
    if (ms === undefined) return FAILED;
    try {
      return await withinBudget(fn(), ms);
    } catch {
      this.errors++;
      return FAILED;
    }
  }
}

/**
 * Rejects when `work` takes longer than `ms`. Hand-written rather than cockatiel's timeout policy, which cost about
 * 50 µs per Redis round trip here (it builds an AbortController and linked signals per call). A timer per call costs
 * under 1 µs of CPU (`npm run bench -- cache-read-path`); a shared deadline sweep measured no cheaper.
 */
function withinBudget<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`Redis operation exceeded its ${ms} ms budget`)), ms);
    work.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}
