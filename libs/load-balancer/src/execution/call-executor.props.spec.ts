import * as fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { ManualClock } from '../clock/manual-clock.js';
import { DeadlineExceededError } from '../errors/deadline-exceeded.error.js';
import type { ExecuteOptions } from '../interfaces/execute-options.interface.js';
import { UpstreamNode } from '../node/upstream-node.js';
import { CallExecutor } from './call-executor.js';
import { HedgeBudget } from './hedge-budget.js';
import type { TryContext } from './running-try.js';

/**
 * Model-based test of the call executor on a ManualClock: a few concurrent calls with random retries, try timeouts,
 * deadlines, hedges (early ones too, when a node goes silent) and caller aborts, driven by a random script of clock advances and try outcomes (including tries
 * whose fn never settles and ignores its signal). Invariants: every call settles exactly once and, with a deadline, no
 * later than it; no try starts at or after its call's deadline; first tries plus retries stay within 1 + retries and
 * hedges within maxExtra; at most 1 + maxExtra tries of a call run at once; every started try is accounted finished
 * once; hedges never exceed what the budget earned; no timer is left once everything settled.
 */

/** Runs in `npm test` (about 1 s here). */
const CI_RUNS = 300;

interface CallConfig {
  retries: number;
  timeoutMs: number | undefined;
  deadlineMs: number | undefined;
  hedge: { delayMs: number; maxExtra: number; budget: number; onSilence: boolean } | undefined;
  abortAt: number | undefined;
}

const callConfig: fc.Arbitrary<CallConfig> = fc.record({
  retries: fc.integer({ min: 0, max: 3 }),
  timeoutMs: fc.option(fc.integer({ min: 1, max: 300 }), { nil: undefined }),
  deadlineMs: fc.option(fc.integer({ min: 1, max: 600 }), { nil: undefined }),
  hedge: fc.option(
    fc.record({
      delayMs: fc.integer({ min: 0, max: 200 }),
      maxExtra: fc.integer({ min: 1, max: 3 }),
      budget: fc.constantFrom(0, 0.1, 0.5, 1),
      onSilence: fc.boolean(),
    }),
    { nil: undefined },
  ),
  abortAt: fc.option(fc.integer({ min: 0, max: 500 }), { nil: undefined }),
});

type Step = { kind: 'advance'; ms: number } | { kind: 'settle'; index: number; ok: boolean };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 150 }) }),
  fc.record({ kind: fc.constant('settle' as const), index: fc.nat({ max: 20 }), ok: fc.boolean() }),
);

interface Try {
  call: number;
  hedge: boolean;
  startedAt: number;
  signal: AbortSignal;
  settle: ((ok: boolean) => void) | undefined;
}

const flush = async () => {
  for (let i = 0; i < 4; i++) await Promise.resolve();
};

/** Moves the clock timer by timer, letting promise callbacks run after each, so settle times are exact. */
async function advance(clock: ManualClock, ms: number): Promise<void> {
  const target = clock.now() + ms;
  while (clock.runNext(target)) await flush();
  clock.advance(target - clock.now());
}

describe('call executor model (issue 16 items 1 and 2)', () => {
  it('calls settle once and by their deadline; tries, hedges and accounting stay within their bounds', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(callConfig, { minLength: 1, maxLength: 4 }),
        fc.array(step, { maxLength: 40 }),
        // The balancer's median latency (how soon a node counts as silent), or none yet.
        fc.option(fc.integer({ min: 0, max: 200 }), { nil: undefined }),
        async (size, configs, steps, medianMs) => {
          const clock = new ManualClock();
          const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', i + 1, 1));
          const started = new Map<UpstreamNode, number>();
          let finishedTwice = false;
          const hedgeBudget = new HedgeBudget();
          let rr = 0;
          const executor = new CallExecutor(
            'model',
            { retries: 0, timeoutMs: undefined, deadlineMs: undefined },
            {
              clock,
              hedgeBudget,
              retryBudget: undefined,
              selector: {
                pick: () => nodes[rr++ % nodes.length],
                pickExcluding: (_key, excluded) => nodes.find((n) => !excluded.has(n)) ?? nodes[0],
                release: () => undefined,
                expectedLatencyMs: () => 0,
                latencyPercentile: () => medianMs,
              },
              accounting: {
                started: (node) => {
                  if (node.inFlight++ === 0) node.progressAt = clock.now();
                  started.set(node, (started.get(node) ?? 0) + 1);
                },
                finished: (node, _outcome, _latencyMs, _error, answered) => {
                  node.inFlight--;
                  if (answered) node.progressAt = clock.now();
                  if (node.inFlight < 0) finishedTwice = true;
                },
              },
            },
          );
          const tries: Try[] = [];
          const settledAt: Array<number | undefined> = [];
          const outcomes: unknown[] = [];
          const controllers: AbortController[] = [];
          configs.forEach((config, call) => {
            const controller = new AbortController();
            controllers.push(controller);
            const options: ExecuteOptions = {
              retries: config.retries,
              timeoutMs: config.timeoutMs,
              deadlineMs: config.deadlineMs,
              signal: controller.signal,
            };
            if (config.hedge !== undefined) {
              options.idempotent = true;
              options.hedge = config.hedge;
            }
            const fn = (_node: UpstreamNode, signal: AbortSignal, context: TryContext) => {
              const t: Try = { call, hedge: context.hedge, startedAt: clock.now(), signal, settle: undefined };
              tries.push(t);
              // Half of the tries ignore their signal and only settle when the script says so.
              return new Promise<string>((resolve, reject) => {
                t.settle = (ok) => (ok ? resolve(`ok${call}`) : reject(new Error(`fail${call}`)));
              });
            };
            settledAt.push(undefined);
            executor.execute(fn, options).then(
              (value) => {
                if (settledAt[call] !== undefined) outcomes[call] = 'settled twice';
                settledAt[call] = clock.now();
                outcomes[call] = value;
              },
              (error: unknown) => {
                if (settledAt[call] !== undefined) outcomes[call] = 'settled twice';
                settledAt[call] = clock.now();
                outcomes[call] = error;
              },
            );
            if (config.abortAt !== undefined) {
              clock.setTimeout(() => controller.abort(new Error(`abort${call}`)), config.abortAt);
            }
          });
          const maxRunning = configs.map(() => 0);
          const observe = () => {
            configs.forEach((_config, call) => {
              const running = tries.filter((t) => t.call === call && t.settle !== undefined && !t.signal.aborted);
              maxRunning[call] = Math.max(maxRunning[call], running.length);
            });
          };
          observe();
          for (const s of steps) {
            if (s.kind === 'advance') await advance(clock, s.ms);
            else {
              const t = tries[s.index % Math.max(1, tries.length)];
              if (t?.settle !== undefined) {
                const settle = t.settle;
                t.settle = undefined;
                settle(s.ok);
              }
            }
            await flush();
            observe();
          }
          // Let go: every remaining try fails, time runs past every timer.
          for (let round = 0; round < 20; round++) {
            for (const t of tries) {
              const settle = t.settle;
              t.settle = undefined;
              settle?.(false);
            }
            await flush();
            await advance(clock, 1_000);
          }

          expect(finishedTwice).toBe(false);
          expect(nodes.map((n) => n.inFlight)).toEqual(nodes.map(() => 0));
          configs.forEach((config, call) => {
            expect(outcomes[call]).not.toBe('settled twice');
            expect(settledAt[call]).toBeDefined();
            const mine = tries.filter((t) => t.call === call);
            const hedges = mine.filter((t) => t.hedge).length;
            expect(mine.length - hedges).toBeLessThanOrEqual(1 + config.retries);
            expect(hedges).toBeLessThanOrEqual(config.hedge?.maxExtra ?? 0);
            expect(maxRunning[call]).toBeLessThanOrEqual(1 + (config.hedge?.maxExtra ?? 0));
            // Without a deadline these bounds are infinite and hold trivially.
            const deadline = config.deadlineMs ?? Number.POSITIVE_INFINITY;
            expect(settledAt[call]).toBeLessThanOrEqual(deadline);
            expect(mine.filter((t) => t.startedAt >= deadline)).toEqual([]);
            const expired = outcomes[call] instanceof DeadlineExceededError;
            expect(expired ? settledAt[call] : deadline).toBe(deadline);
          });
          const earned = configs.reduce((sum, c) => sum + (c.hedge?.budget ?? 0), 0);
          expect(tries.filter((t) => t.hedge).length).toBeLessThanOrEqual(Math.floor(earned + 1e-9));
          expect(clock.pending).toBe(0);
        },
      ),
      propertyParameters(CI_RUNS),
    );
  });
});
