import type { BeforeApplicationShutdown, OnApplicationBootstrap } from '@nestjs/common';
import type { BalancedCall } from './execution/running-try.js';
import type { HealthChecker } from './health-checks/health-checker.js';
import type { ExecuteOptions, ReportOutcome } from './interfaces/execute-options.interface.js';
import type { LoadBalancerEvents } from './interfaces/load-balancer-events.interface.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import type { NodeSnapshot } from './interfaces/node-snapshot.interface.js';
import { DEFAULT_LOAD_BALANCER_NAME } from './load-balancer.constants.js';
import {
  ArgumentValidator,
  resolveNodeConfig,
  validateLoadBalancerOptions,
} from './load-balancer-options.validator.js';
import { wireBalancer, type BalancerParts } from './load-balancer.wiring.js';
import type { UpstreamNode } from './node/upstream-node.js';
import type { NodeSelector } from './selection/node-selector.js';
import type { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

/** Options of a `removeNode` call. @publicApi */
export interface RemoveNodeOptions {
  /**
   * Stop waiting for in-flight requests after this long (an integer from 0 to 2147483647 ms) and remove the node
   * anyway. Default: wait for all. With several calls for one draining node, the earliest deadline applies.
   */
  drainTimeoutMs?: number;
}

/**
 * One client-side load balancer: a thin facade over its units (see `load-balancer.wiring.ts`): membership and
 * discovery, the node health model, outlier detection, active health checks, node selection (strategy, panic, slow
 * start, locality) and the call executor (tries, timeouts, retries, deadline, hedging).
 * Inject it with `@InjectLoadBalancer(name)`, or construct it directly outside Nest.
 * @publicApi
 */
export class LoadBalancer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly name: string;
  private readonly args: ArgumentValidator;
  private readonly parts: BalancerParts;
  /** `parts.selector` and its strategy, held directly: see `pick`. */
  private readonly selector: NodeSelector;
  private readonly strategy: LoadBalancingStrategy;

  /**
   * @param strategy a strategy instance; default: a new instance of the built-in named by `options.strategy`.
   * @param healthChecker used when `options.healthCheck` is set; default: the one in the options, else HTTP.
   */
  constructor(
    readonly options: LoadBalancerOptions & { name?: string },
    strategy?: LoadBalancingStrategy,
    healthChecker?: HealthChecker,
  ) {
    this.name = typeof options?.name === 'string' ? options.name : DEFAULT_LOAD_BALANCER_NAME;
    const initial = validateLoadBalancerOptions(this.name, options);
    this.args = new ArgumentValidator(this.name);
    this.parts = wireBalancer(this.name, options, initial, strategy, healthChecker);
    this.selector = this.parts.selector;
    this.strategy = this.selector.strategy;
  }

  /** Picks a node without tracking the request; report the outcome with `report`. Throws `NoAvailableNodeError`. */
  pick(key?: string): UpstreamNode {
    // Hot path: the usual keyless pick pays one comparison; the validator is called (and throws) only for a key that
    // is not a string.
    if (key !== undefined && typeof key !== 'string') this.args.routingKey(key);
    // `NodeSelector.pick` inlined: the strategy's pick costs 6-7 ns, and going through the selector added 1.3-1.9 ns
    // (a call level and three more field loads, measured against 81e06b5); only a missing, probing or warming node
    // goes to the selector.
    const node = this.strategy.pick(key);
    return node !== undefined && node.admission === 0 ? node : this.selector.admitPick(node, key);
  }

  /**
   * Runs `fn(node, signal, context)` on a picked node, tracking in-flight count, latency and outcome. A failed try is
   * retried up to `retries` times, each on a node not yet tried when one is available, while the retry budget and the
   * deadline allow; a slow idempotent call may be hedged. Resolves to the first success; rejects with the last try's
   * error, `DeadlineExceededError`, the caller's abort reason, or `NoAvailableNodeError` when nothing can serve.
   */
  async execute<T>(fn: BalancedCall<T>, options: ExecuteOptions = {}): Promise<T> {
    this.args.execute(fn, options);
    return this.parts.executor.execute(fn, options);
  }

  /**
   * Records the outcome of a request made on a node from `pick()`. Returns false for an id that is not a member (a
   * node removed since it was picked). Throws `InvalidLoadBalancerArgumentError` on a bad id, latency or error field.
   */
  report(nodeId: string, outcome: ReportOutcome): boolean {
    this.args.report(nodeId, outcome);
    const node = this.parts.membership.get(nodeId);
    if (node === undefined) return false;
    this.parts.record(node, outcome.latencyMs, Boolean(outcome.error));
    return true;
  }

  /**
   * Records a load report: the node's own utilization in [0, 1] (CPU, queue share…), as gRPC's ORCA reports carry.
   * p2c-ewma then weighs the node's load by 1 / (1 − utilization); the report decays with `decayMs`. Returns false for
   * an id that is not a member. Throws `InvalidLoadBalancerArgumentError` on a bad id or utilization.
   */
  reportLoad(nodeId: string, utilization: number): boolean {
    this.args.reportLoad(nodeId, utilization);
    const node = this.parts.membership.get(nodeId);
    if (node === undefined) return false;
    this.parts.health.reportUtilization(node, utilization, this.parts.clock.now());
    return true;
  }

  /** Adds a node at run time (slow start applies when other nodes already serve). Throws on a bad or duplicate config. */
  addNode(config: NodeConfig): NodeSnapshot {
    const resolved = resolveNodeConfig(this.name, config, { kind: 'addNode' });
    return this.parts.membership.add(resolved, this.parts.membership.active.length > 0, false);
  }

  /**
   * Takes a node out of rotation at once and removes it when its in-flight requests finish (or after
   * `drainTimeoutMs`). Resolves true once removed, false if no such node. Calls for a node already draining share
   * its removal: all resolve together, at the earliest of their deadlines.
   */
  removeNode(id: string, options: RemoveNodeOptions = {}): Promise<boolean> {
    try {
      this.args.removeNode(id, options);
    } catch (error) {
      return Promise.reject(error);
    }
    const node = this.parts.membership.get(id);
    if (node === undefined) return Promise.resolve(false);
    return this.parts.membership.drain(node, options.drainTimeoutMs);
  }

  /** Snapshots of every node, draining ones included. */
  nodes(): NodeSnapshot[] {
    const now = this.parts.clock.now();
    return [...this.parts.membership.all()].map((node) => this.parts.snapshot(node, now));
  }

  /** Whether the balancer is in panic mode (too few healthy nodes, so it balances across all). */
  get inPanic(): boolean {
    return this.parts.selector.inPanic;
  }

  /** Retry tokens left, or undefined without a retry budget. */
  get retryBudgetAvailable(): number | undefined {
    return this.parts.retryBudget?.available;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof LoadBalancerEvents>(event: E, listener: (payload: LoadBalancerEvents[E]) => void): () => void {
    return this.parts.events.on(event, listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.parts.discovery !== undefined) {
      await this.refreshDiscovery();
      this.parts.discoveryTask?.start();
    }
    this.parts.healthCheckTask?.start(0);
  }

  beforeApplicationShutdown(): void {
    this.close();
  }

  /** Stops health checks, discovery, pending node timers and the metric gauges' collection. Picks keep working. */
  close(): void {
    this.parts.discoveryTask?.stop();
    this.parts.healthCheckTask?.stop();
    this.parts.outlier.close();
    this.parts.membership.close();
    this.parts.telemetry.close();
  }

  /**
   * Resolves the discovery provider once and reconciles membership. A failed or malformed resolution is logged and
   * keeps the current nodes; an invalid entry is skipped with a warning naming it. Rejects only if a custom strategy
   * throws while membership changes (scheduled refreshes log that too).
   */
  async refreshDiscovery(): Promise<void> {
    await this.parts.discovery?.reconcile();
  }

  /** Runs one round of active health checks on every member. */
  async runHealthChecks(): Promise<void> {
    await this.parts.activeChecks?.runRound();
  }
}
