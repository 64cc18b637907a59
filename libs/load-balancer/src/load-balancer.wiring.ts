import { Logger } from '@nestjs/common';
import { PeriodicTask } from './background/periodic-task.js';
import { systemClock, type Clock } from './clock/clock.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { BalancerEvents } from './events/balancer-events.js';
import { CallExecutor } from './execution/call-executor.js';
import { HedgeBudget } from './execution/hedge-budget.js';
import type { TryAccounting } from './execution/running-try.js';
import type { HealthChecker } from './health-checks/health-checker.js';
import { ActiveHealthChecks, healthCheckerFor, resolveHealthCheckSettings } from './health/active-health-checks.js';
import { NodeHealthModel } from './health/node-health-model.js';
import { snapshotNode } from './health/node-snapshots.js';
import { OutlierDetector, resolveOutlierSettings } from './health/outlier-detector.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeSnapshot } from './interfaces/node-snapshot.interface.js';
import { CUSTOM_STRATEGY_NEEDS_INSTANCE } from './load-balancer.messages.js';
import type { ResolvedNodeConfig } from './load-balancer-options.validator.js';
import { DiscoveryReconciler } from './membership/discovery-reconciler.js';
import { NodeMembership } from './membership/node-membership.js';
import type { UpstreamNode } from './node/upstream-node.js';
import { RetryBudget } from './retry/retry-budget.js';
import { LocalityRule } from './selection/locality-rule.js';
import { NodeSelector } from './selection/node-selector.js';
import { SlowStart } from './selection/slow-start.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import type { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';
import { BalancerTelemetry } from './telemetry/balancer-telemetry.js';

/** The units of one balancer, each the single owner of its part of node state. */
export interface BalancerParts {
  readonly clock: Clock;
  readonly membership: NodeMembership;
  readonly health: NodeHealthModel;
  readonly outlier: OutlierDetector;
  readonly selector: NodeSelector;
  readonly executor: CallExecutor;
  readonly events: BalancerEvents;
  readonly retryBudget: RetryBudget | undefined;
  readonly discovery: DiscoveryReconciler | undefined;
  readonly discoveryTask: PeriodicTask | undefined;
  readonly activeChecks: ActiveHealthChecks | undefined;
  readonly healthCheckTask: PeriodicTask | undefined;
  readonly telemetry: BalancerTelemetry;
  readonly snapshot: (node: UpstreamNode, now: number) => NodeSnapshot;
  /** Folds an outcome into the health model and then the outlier detector. */
  readonly record: (node: UpstreamNode, latencyMs: number, failed: boolean) => void;
}

/** Builds and connects the units of a balancer whose options were validated; seeds the initial nodes. */
export function wireBalancer(
  name: string,
  options: LoadBalancerOptions,
  initial: readonly ResolvedNodeConfig[],
  strategy: LoadBalancingStrategy | undefined,
  injectedChecker: HealthChecker | undefined,
): BalancerParts {
  const logger = new Logger(`LoadBalancer:${name}`);
  const clock = options.clock ?? systemClock;
  const random = options.random ?? Math.random;
  const decayMs = options.decayMs ?? 10_000;
  const chosen = strategy ?? builtinStrategy(name, options.strategy);
  chosen.bind({ clock, random, latencyDecayMs: decayMs });

  const events = new BalancerEvents(logger);
  const slowStart = new SlowStart(options.slowStart);
  // The units call each other only through these late-bound closures, so construction order does not matter.
  let selector!: NodeSelector;
  let outlier!: OutlierDetector;
  const changed = () => selector.refresh();
  const snapshot = (node: UpstreamNode, now: number) => snapshotNode(node, now, health, slowStart);
  const membership: NodeMembership = new NodeMembership(name, clock, events, {
    joining: (node, now, warm) => {
      health.seed(node, now);
      if (warm) slowStart.begin(node, now);
    },
    leaving: (node) => {
      outlier.forget(node);
      telemetry.forget(node);
    },
    changed,
    snapshot,
  });
  const members = () => membership.active;
  const telemetry = new BalancerTelemetry(name, {
    members: () => membership.all(),
    healthScore: (node) => (node.state === 'draining' ? 0 : health.score(node, clock.now())),
  });
  events.on('ejected', ({ node, reason }) => telemetry.ejected(node.id, reason));
  const health = new NodeHealthModel(
    { decayMs, initialLatencyMs: options.initialLatencyMs ?? 30, errorPenalty: options.errorPenalty ?? 5 },
    slowStart,
    members,
  );
  outlier = new OutlierDetector(resolveOutlierSettings(options.outlierDetection), {
    clock,
    random,
    health,
    slowStart,
    events,
    balancer: name,
    snapshot,
    members,
    changed,
  });
  selector = new NodeSelector(options.panicThreshold ?? 0.5, {
    balancer: name,
    clock,
    random,
    strategy: chosen,
    slowStart,
    events,
    locality: options.locality === undefined ? undefined : new LocalityRule(options.locality),
    membership,
    probeAdmitted: (node) => outlier.admitProbe(node),
  });
  const record = (node: UpstreamNode, latencyMs: number, failed: boolean) => {
    const now = clock.now();
    health.record(node, latencyMs, failed, now);
    outlier.outcome(node, failed, now);
  };
  const accounting: TryAccounting = {
    started: (node) => {
      if (node.inFlight === 0) node.progressAt = clock.now();
      node.inFlight++;
      chosen.inFlightChanged(node, node.inFlight - 1);
    },
    finished: (node, outcome, latencyMs, error, answered) => {
      telemetry.tryFinished(node, outcome, latencyMs, error);
      if (answered) node.progressAt = clock.now();
      node.inFlight--;
      chosen.inFlightChanged(node, node.inFlight + 1);
      if (outcome === 'cancelled') outlier.cancelProbe(node);
      else if (outcome === 'outlasted') {
        outlier.cancelProbe(node);
        health.recordAtLeast(node, latencyMs, clock.now());
      } else record(node, latencyMs, outcome === 'failure');
      membership.settled(node);
    },
  };
  const retryBudget = options.retryBudget ? new RetryBudget(options.retryBudget, clock) : undefined;
  const executor = new CallExecutor(
    name,
    { retries: options.retries ?? 0, timeoutMs: options.timeoutMs, deadlineMs: options.deadlineMs },
    {
      clock,
      selector: {
        pick: (key) => selector.pick(key),
        pickExcluding: (key, excluded) => selector.pickExcluding(key, excluded),
        release: (node) => outlier.cancelProbe(node),
        expectedLatencyMs: (node) => health.latencyMs(node, clock.now()),
        latencyPercentile: (percentile) => health.latencies.percentile(percentile),
      },
      accounting,
      retryBudget,
      hedgeBudget: new HedgeBudget(),
      telemetry,
    },
  );
  const discovery =
    options.discovery === undefined ? undefined : new DiscoveryReconciler(name, options.discovery, membership, logger);
  const activeChecks = options.healthCheck
    ? new ActiveHealthChecks(
        resolveHealthCheckSettings(options.healthCheck),
        healthCheckerFor(options.healthCheck, options.http?.protocol, injectedChecker),
        clock,
        outlier,
        membership,
      )
    : undefined;
  membership.seed(initial);
  selector.refresh();
  return {
    clock,
    membership,
    health,
    outlier,
    selector,
    executor,
    events,
    retryBudget,
    discovery,
    discoveryTask:
      discovery &&
      new PeriodicTask(clock, logger, name, 'discovery', discovery.intervalMs, () => discovery.reconcile()),
    activeChecks,
    healthCheckTask:
      activeChecks &&
      new PeriodicTask(clock, logger, name, 'health-check', activeChecks.intervalMs, () => activeChecks.runRound()),
    telemetry,
    snapshot,
    record,
  };
}

function builtinStrategy(balancer: string, strategy: LoadBalancerOptions['strategy']): LoadBalancingStrategy {
  const name = strategy ?? 'p2c-ewma';
  if (typeof name !== 'string') throw new InvalidLoadBalancerOptionsError(CUSTOM_STRATEGY_NEEDS_INSTANCE(balancer));
  return new BUILTIN_STRATEGIES[name]();
}
