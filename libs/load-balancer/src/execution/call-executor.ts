import type { ExecuteOptions } from '../interfaces/execute-options.interface.js';
import { CallRun, type CallPlan, type CallServices, type HedgePlan } from './call-run.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { BalancedCall } from './running-try.js';

/** Share of extra load hedges may add by default. */
export const DEFAULT_HEDGE_BUDGET = 0.1;

/** Balancer-wide defaults of `execute`. */
export interface CallDefaults {
  readonly retries: number;
  readonly timeoutMs: number | undefined;
  readonly deadlineMs: number | undefined;
}

/**
 * Turns `execute` options into a call plan and runs it: tries, per-try timeouts, retries under the retry budget,
 * hedges under the hedge budget, and one deadline over all of them. Options are validated by the caller.
 */
export class CallExecutor {
  constructor(
    private readonly balancer: string,
    private readonly defaults: CallDefaults,
    private readonly services: CallServices,
  ) {}

  execute<T>(fn: BalancedCall<T>, options: ExecuteOptions): Promise<T> {
    const { services, defaults } = this;
    let hedge: HedgePlan | undefined;
    if (options.hedge !== undefined) {
      services.hedgeBudget.deposit(options.hedge.budget ?? DEFAULT_HEDGE_BUDGET);
      hedge = {
        delayMs: options.hedge.delayMs,
        percentile: options.hedge.percentile,
        maxExtra: options.hedge.maxExtra ?? 1,
        onSilence: options.hedge.onSilence ?? true,
      };
    }
    services.retryBudget?.deposit();
    const trace = services.telemetry?.traceCall();
    let node: UpstreamNode;
    try {
      node = services.selector.pick(options.key);
    } catch (error) {
      trace?.ended(true, error);
      throw error;
    }
    const plan: CallPlan<T> = {
      balancer: this.balancer,
      fn,
      key: options.key,
      retries: options.retries ?? defaults.retries,
      timeoutMs: options.timeoutMs ?? defaults.timeoutMs,
      deadlineMs: options.deadlineMs ?? defaults.deadlineMs,
      signal: options.signal,
      retryOn: options.retryOn ?? retryAnything,
      hedge,
    };
    const run = new CallRun(plan, services, trace);
    run.start(node);
    return run.promise;
  }
}

function retryAnything(): boolean {
  return true;
}
