import { EventEmitter } from 'node:events';
import { Logger, type BeforeApplicationShutdown, type OnApplicationBootstrap } from '@nestjs/common';
import { systemClock, type Clock, type TimerHandle } from './clock/clock.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { NoAvailableNodeError } from './errors/no-available-node.error.js';
import { CallExecutor } from './execution/call-executor.js';
import { HedgeBudget } from './execution/hedge-budget.js';
import type { BalancedCall, TryAccounting, TryOutcome } from './execution/running-try.js';
import type { HealthChecker } from './health-checks/health-checker.js';
import { HttpHealthChecker } from './health-checks/http-health-checker.js';
import type { ExecuteOptions, ReportOutcome } from './interfaces/execute-options.interface.js';
import type { EjectionReason, LoadBalancerEvents } from './interfaces/load-balancer-events.interface.js';
import type { HealthCheckOptions, LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import type { NodeSnapshot } from './interfaces/node-snapshot.interface.js';
import { DEFAULT_LOAD_BALANCER_NAME } from './load-balancer.constants.js';
import {
  BACKGROUND_TASK_FAILED,
  DISCOVERY_ENTRY_SKIPPED,
  DISCOVERY_FAILED,
  DISCOVERY_NOT_A_LIST,
  DUPLICATE_NODE,
} from './load-balancer.messages.js';
import {
  ArgumentValidator,
  describeValue,
  resolveNodeConfig,
  validateLoadBalancerOptions,
  type ResolvedNodeConfig,
} from './load-balancer-options.validator.js';
import { ADMIT_PROBE, ADMIT_SLOW_START, UpstreamNode } from './node/upstream-node.js';
import type { RandomSource } from './random/random-source.js';
import { RetryBudget } from './retry/retry-budget.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import type { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

/** Median latency used as the health-score reference is recomputed at most this often. */
const REFERENCE_REFRESH_MS = 1_000;

interface OutlierSettings {
  consecutiveFailures: number;
  errorRateThreshold: number;
  minRequests: number;
  baseEjectionMs: number;
  maxEjectionMs: number;
  jitter: number;
  maxEjectionPercent: number;
  probeTimeoutMs: number;
}

interface HealthCheckSettings {
  intervalMs: number;
  timeoutMs: number;
  healthyThreshold: number;
  unhealthyThreshold: number;
}

/** Options of a `removeNode` call. @publicApi */
export interface RemoveNodeOptions {
  /**
   * Stop waiting for in-flight requests after this long (an integer from 0 to 2147483647 ms) and remove the node
   * anyway. Default: wait for all. With several calls for one draining node, the earliest deadline applies.
   */
  drainTimeoutMs?: number;
}

/** One pending removal: every `removeNode` call for the node shares it; the earliest drain deadline wins. */
interface Drain {
  readonly promise: Promise<boolean>;
  readonly resolve: (removed: boolean) => void;
  deadline: number;
}

/**
 * One client-side load balancer: a set of upstream nodes, a strategy that picks among the selectable ones, and the
 * health model (peak-EWMA latency, decayed error rate, outlier ejection with half-open probes, slow start, panic mode).
 * Inject it with `@InjectLoadBalancer(name)`, or construct it directly outside Nest.
 * @publicApi
 */
export class LoadBalancer implements OnApplicationBootstrap, BeforeApplicationShutdown {
  readonly name: string;
  private readonly logger: Logger;
  private readonly clock: Clock;
  private readonly random: RandomSource;
  private readonly strategy: LoadBalancingStrategy;
  private readonly emitter = new EventEmitter();
  private readonly members = new Map<string, UpstreamNode>();
  /** Members not being drained, in insertion order. */
  private active: UpstreamNode[] = [];
  private membershipVersion = 0;
  private panicking = false;
  private readonly nodeTimers = new Map<UpstreamNode, TimerHandle>();
  private readonly drains = new Map<UpstreamNode, Drain>();
  private readonly args: ArgumentValidator;
  private referenceLatency = 0;
  private referenceStamp = Number.NEGATIVE_INFINITY;
  private recordsSinceReference = 0;
  private healthTimer: TimerHandle | undefined;
  private discoveryTimer: TimerHandle | undefined;
  private stopped = false;

  private readonly decayMs: number;
  private readonly initialLatencyMs: number;
  private readonly errorPenalty: number;
  private readonly panicThreshold: number;
  private readonly executor: CallExecutor;
  private readonly outlier: OutlierSettings | undefined;
  private readonly slowStartWindowMs: number;
  private readonly slowStartMinFactor: number;
  private readonly budget: RetryBudget | undefined;
  private readonly healthCheck: HealthCheckSettings | undefined;
  private readonly healthChecker: HealthChecker | undefined;

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
    this.logger = new Logger(`LoadBalancer:${this.name}`);
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.decayMs = options.decayMs ?? 10_000;
    this.initialLatencyMs = options.initialLatencyMs ?? 30;
    this.errorPenalty = options.errorPenalty ?? 5;
    this.panicThreshold = options.panicThreshold ?? 0.5;
    this.outlier =
      options.outlierDetection === false
        ? undefined
        : {
            consecutiveFailures: options.outlierDetection?.consecutiveFailures ?? 5,
            errorRateThreshold: options.outlierDetection?.errorRateThreshold ?? 0.5,
            minRequests: options.outlierDetection?.minRequests ?? 10,
            baseEjectionMs: options.outlierDetection?.baseEjectionMs ?? 5_000,
            maxEjectionMs: options.outlierDetection?.maxEjectionMs ?? 300_000,
            jitter: options.outlierDetection?.jitter ?? 0.2,
            maxEjectionPercent: options.outlierDetection?.maxEjectionPercent ?? 50,
            probeTimeoutMs: options.outlierDetection?.probeTimeoutMs ?? 30_000,
          };
    this.slowStartWindowMs = options.slowStart === false ? 0 : (options.slowStart?.windowMs ?? 10_000);
    this.slowStartMinFactor = options.slowStart === false ? 1 : (options.slowStart?.minFactor ?? 0.1);
    this.budget = options.retryBudget ? new RetryBudget(options.retryBudget, this.clock) : undefined;
    this.healthCheck = options.healthCheck ? resolveHealthCheck(options.healthCheck) : undefined;
    this.healthChecker = options.healthCheck
      ? (healthChecker ?? checkerInstance(options.healthCheck, options.http?.protocol))
      : undefined;

    if (strategy === undefined) {
      const name = options.strategy ?? 'p2c-ewma';
      if (typeof name !== 'string') {
        throw new InvalidLoadBalancerOptionsError(
          `Load balancer "${this.name}" uses a custom strategy class; pass an instance to the constructor or register it through LoadBalancerModule so DI can build it.`,
        );
      }
      strategy = new BUILTIN_STRATEGIES[name]();
    }
    this.strategy = strategy;
    this.executor = new CallExecutor(
      this.name,
      { retries: options.retries ?? 0, timeoutMs: options.timeoutMs, deadlineMs: options.deadlineMs },
      {
        clock: this.clock,
        selector: {
          pick: (key) => this.pick(key),
          pickExcluding: (key, excluded) => {
            const next = this.strategy.pickExcluding(key, excluded);
            return next === undefined || next.admission === 0 ? next : this.admit(next, key, excluded);
          },
          release: (node) => this.cancelProbe(node),
          expectedLatencyMs: (node) => node.latencyAt(this.clock.now(), this.decayMs),
          latencyPercentile: () => undefined,
        },
        accounting: this.accounting,
        retryBudget: this.budget,
        hedgeBudget: new HedgeBudget(),
      },
    );
    this.strategy.bind({ clock: this.clock, random: this.random, latencyDecayMs: this.decayMs });
    const now = this.clock.now();
    for (const config of initial)
      this.insert(new UpstreamNode(config.id, config.host, config.port, config.weight, config.metadata), now, false);
    this.refresh();
  }

  /** Picks a node without tracking the request; report the outcome with `report`. Throws `NoAvailableNodeError`. */
  pick(key?: string): UpstreamNode {
    // Hot path: one typeof test; the validator is called (and throws) only for a key that is not a string.
    if (typeof key !== 'string' && key !== undefined) this.args.routingKey(key);
    const node = this.strategy.pick(key);
    if (node === undefined) throw new NoAvailableNodeError(this.name, this.active.length);
    return node.admission === 0 ? node : this.admit(node, key, undefined);
  }

  /**
   * Runs `fn(node, signal)` on a picked node, tracking in-flight count, latency and outcome. A failed try is retried
   * up to `retries` times, each on a node not yet tried when one is available, while the retry budget allows.
   * Resolves to `fn`'s result; rejects with the last try's error, or `NoAvailableNodeError` when nothing can serve.
   */
  async execute<T>(fn: BalancedCall<T>, options: ExecuteOptions = {}): Promise<T> {
    this.args.execute(fn, options);
    return this.executor.execute(fn, options);
  }

  /**
   * Records the outcome of a request made on a node from `pick()`. Returns false for an id that is not a member (a
   * node removed since it was picked). Throws `InvalidLoadBalancerArgumentError` on a bad id, latency or error field.
   */
  report(nodeId: string, outcome: ReportOutcome): boolean {
    this.args.report(nodeId, outcome);
    const node = this.members.get(nodeId);
    if (node === undefined) return false;
    this.record(node, outcome.latencyMs, outcome.error ? 'failure' : 'success');
    return true;
  }

  /** Adds a node at run time (slow start applies when other nodes already serve). Throws on a bad or duplicate config. */
  addNode(config: NodeConfig): NodeSnapshot {
    return this.add(resolveNodeConfig(this.name, config, { kind: 'addNode' }), this.active.length > 0, false);
  }

  private add(resolved: ResolvedNodeConfig, slowStart: boolean, discovered: boolean): NodeSnapshot {
    if (this.members.has(resolved.id))
      throw new InvalidLoadBalancerOptionsError(DUPLICATE_NODE(this.name, resolved.id));
    const node = new UpstreamNode(resolved.id, resolved.host, resolved.port, resolved.weight, resolved.metadata);
    node.discovered = discovered;
    const now = this.clock.now();
    this.insert(node, now, slowStart);
    this.refresh();
    const snapshot = this.snapshot(node, now);
    this.emit('node-added', { balancer: this.name, node: snapshot });
    return snapshot;
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
    const node = this.members.get(id);
    if (node === undefined) return Promise.resolve(false);
    return this.drain(node, options.drainTimeoutMs);
  }

  private drain(node: UpstreamNode, drainTimeoutMs: number | undefined): Promise<boolean> {
    if (node.state !== 'draining') {
      node.state = 'draining';
      node.admission = 0;
      // A draining node has no probe: otherwise cancelling it would clear the drain deadline timer set below.
      node.probeInFlight = false;
      this.clearNodeTimer(node);
      this.active = this.active.filter((n) => n !== node);
      this.membershipVersion++;
      this.refresh();
    }
    if (node.inFlight === 0) {
      this.finishRemoval(node);
      return Promise.resolve(true);
    }
    let drain = this.drains.get(node);
    if (drain === undefined) {
      let resolve!: (removed: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      drain = { promise, resolve, deadline: Number.POSITIVE_INFINITY };
      this.drains.set(node, drain);
    }
    const deadline = drainTimeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + drainTimeoutMs;
    if (drainTimeoutMs !== undefined && deadline < drain.deadline) {
      drain.deadline = deadline;
      this.clearNodeTimer(node);
      this.nodeTimers.set(
        node,
        this.clock.setTimeout(() => this.finishRemoval(node), drainTimeoutMs),
      );
    }
    return drain.promise;
  }

  /** Snapshots of every node, draining ones included. */
  nodes(): NodeSnapshot[] {
    const now = this.clock.now();
    return [...this.members.values()].map((node) => this.snapshot(node, now));
  }

  /** Whether the balancer is in panic mode (too few healthy nodes, so it balances across all). */
  get inPanic(): boolean {
    return this.panicking;
  }

  /** Retry tokens left, or undefined without a retry budget. */
  get retryBudgetAvailable(): number | undefined {
    return this.budget?.available;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof LoadBalancerEvents>(event: E, listener: (payload: LoadBalancerEvents[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  async onApplicationBootstrap(): Promise<void> {
    this.stopped = false;
    if (this.options.discovery !== undefined) {
      await this.refreshDiscovery();
      this.scheduleDiscovery();
    }
    if (this.healthCheck !== undefined) this.scheduleHealthChecks(0);
  }

  beforeApplicationShutdown(): void {
    this.close();
  }

  /** Stops health checks, discovery and pending node timers. Picks keep working. */
  close(): void {
    this.stopped = true;
    if (this.healthTimer !== undefined) this.clock.clearTimeout(this.healthTimer);
    if (this.discoveryTimer !== undefined) this.clock.clearTimeout(this.discoveryTimer);
    this.healthTimer = this.discoveryTimer = undefined;
    for (const timer of this.nodeTimers.values()) this.clock.clearTimeout(timer);
    this.nodeTimers.clear();
  }

  /**
   * Resolves the discovery provider once and reconciles membership. A failed or malformed resolution is logged and
   * keeps the current nodes; an invalid entry is skipped with a warning naming it. Rejects only if a custom strategy
   * throws while membership changes (scheduled refreshes log that too).
   */
  async refreshDiscovery(): Promise<void> {
    const discovery = this.options.discovery;
    if (discovery === undefined) return;
    let found: unknown;
    try {
      found = await discovery.resolve();
    } catch (error) {
      this.logger.warn(DISCOVERY_FAILED(this.name, this.active.length, String(error)));
      return;
    }
    if (!Array.isArray(found)) {
      this.logger.warn(DISCOVERY_NOT_A_LIST(this.name, describeValue(found), this.active.length));
      return;
    }
    const valid: ResolvedNodeConfig[] = [];
    // Ids of every entry, invalid ones included: a member whose entry is now malformed is kept, not drained.
    const wanted = new Set<string>();
    found.forEach((config: NodeConfig, index) => {
      try {
        const resolved = resolveNodeConfig(this.name, config, { kind: 'discovery', index });
        valid.push(resolved);
        wanted.add(resolved.id);
      } catch (error) {
        this.logger.warn(DISCOVERY_ENTRY_SKIPPED(this.name, (error as Error).message));
        const id = (config as Partial<NodeConfig> | null)?.id;
        if (typeof id === 'string') wanted.add(id);
        else if (config !== null && typeof config === 'object') wanted.add(`${config.host}:${config.port}`);
      }
    });
    // The first resolution is the initial membership: no slow start unless other nodes already serve.
    const slowStart = this.active.length > 0;
    for (const resolved of valid) {
      if (!this.members.has(resolved.id)) this.add(resolved, slowStart, true);
    }
    for (const node of this.active) {
      if (node.discovered && !wanted.has(node.id)) void this.drain(node, undefined);
    }
  }

  /** Runs one round of active health checks on every member. */
  async runHealthChecks(): Promise<void> {
    const settings = this.healthCheck;
    const checker = this.healthChecker;
    if (settings === undefined || checker === undefined) return;
    await Promise.all(this.active.map((node) => this.checkNode(node, checker, settings)));
  }

  private async checkNode(node: UpstreamNode, checker: HealthChecker, settings: HealthCheckSettings): Promise<void> {
    const controller = new AbortController();
    const timer = this.clock.setTimeout(() => controller.abort(), settings.timeoutMs);
    let healthy: boolean;
    try {
      healthy = await Promise.race([
        checker.check(node, controller.signal),
        new Promise<boolean>((resolve) => controller.signal.addEventListener('abort', () => resolve(false))),
      ]);
    } catch {
      healthy = false;
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (node.state === 'draining' || this.members.get(node.id) !== node) return;
    node.activeStreak = healthy ? Math.max(0, node.activeStreak) + 1 : Math.min(0, node.activeStreak) - 1;
    if (!node.activeFailing && -node.activeStreak >= settings.unhealthyThreshold) {
      node.activeFailing = true;
      this.clearNodeTimer(node);
      node.state = 'ejected';
      node.admission = 0;
      node.probeInFlight = false;
      this.refresh();
      this.emit('ejected', {
        balancer: this.name,
        node: this.snapshot(node, this.clock.now()),
        reason: 'active-health-check',
        durationMs: Number.POSITIVE_INFINITY,
      });
    } else if (node.activeFailing && node.activeStreak >= settings.healthyThreshold) {
      node.activeFailing = false;
      this.recover(node, this.clock.now());
    }
  }

  private scheduleHealthChecks(delayMs: number): void {
    const settings = this.healthCheck!;
    this.healthTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      void this.runInBackground('health-check', () => this.runHealthChecks()).then(() => {
        if (!this.stopped) this.scheduleHealthChecks(settings.intervalMs);
      });
    }, delayMs);
  }

  private scheduleDiscovery(): void {
    const interval = this.options.discovery!.refreshIntervalMs;
    this.discoveryTimer = this.clock.setTimeout(() => {
      if (this.stopped) return;
      void this.runInBackground('discovery', () => this.refreshDiscovery()).then(() => {
        if (!this.stopped) this.scheduleDiscovery();
      });
    }, interval);
  }

  /** A scheduled round never rejects: whatever throws in it (a custom strategy, checker or listener) is logged. */
  private async runInBackground(task: string, round: () => Promise<void>): Promise<void> {
    try {
      await round();
    } catch (error) {
      this.logger.error(BACKGROUND_TASK_FAILED(this.name, task, String(error)));
    }
  }

  /** The balancer looks at a picked node only when it probes or warms up; everything else returns at once. */
  private admit(
    node: UpstreamNode,
    key: string | undefined,
    excluded: ReadonlySet<UpstreamNode> | undefined,
  ): UpstreamNode {
    if ((node.admission & ADMIT_PROBE) !== 0) {
      this.startProbe(node);
      return node;
    }
    const factor = this.slowStartFactor(node, this.clock.now());
    if (factor >= 1) {
      node.admission &= ~ADMIT_SLOW_START;
      return node;
    }
    if (this.random() < factor) return node;
    // Warming up: give this pick to another node (one redraw, so the ramp costs at most one extra pick).
    const other = excluded === undefined ? this.strategy.pick(key) : this.strategy.pickExcluding(key, excluded);
    if (other === undefined || other === node) return node;
    if ((other.admission & ADMIT_PROBE) !== 0) this.startProbe(other);
    return other;
  }

  private readonly accounting: TryAccounting = {
    started: (node) => {
      node.inFlight++;
      this.strategy.inFlightChanged(node, node.inFlight - 1);
    },
    finished: (node, outcome, latencyMs) => {
      node.inFlight--;
      this.strategy.inFlightChanged(node, node.inFlight + 1);
      if (outcome === 'cancelled') this.cancelProbe(node);
      else this.record(node, latencyMs, outcome);
      if (node.inFlight === 0 && node.state === 'draining') this.finishRemoval(node);
    },
  };

  /** Folds one outcome into the node's latency, error rate and state. O(1) except an occasional median refresh. */
  private record(node: UpstreamNode, latencyMs: number, outcome: Exclude<TryOutcome, 'cancelled'>): void {
    const now = this.clock.now();
    const failed = outcome === 'failure';
    node.requests++;
    if (failed) node.failures++;

    // Peak EWMA: a slower sample replaces the estimate at once; faster ones blend in by elapsed time.
    const w = Math.exp((node.costStamp - now) / this.decayMs);
    const decayed = node.cost * w;
    // A failure never makes a node look faster (fast-failing nodes must not attract traffic).
    const sample = failed ? Math.max(latencyMs, decayed) : Math.max(0, latencyMs);
    node.cost = sample > decayed ? sample : decayed + sample * (1 - w);
    node.costStamp = now;

    const we = Math.exp((node.rateStamp - now) / this.decayMs);
    node.decayedFailures = node.decayedFailures * we + (failed ? 1 : 0);
    node.decayedRequests = node.decayedRequests * we + 1;
    node.rateStamp = now;
    node.consecutiveFailures = failed ? node.consecutiveFailures + 1 : 0;
    // Soft failure accrual: the decayed rate reacts slowly on a node with a long good history, so each failure in a
    // row also doubles the load figure (up to 16×) until the next success.
    node.errorFactor = (1 + this.errorPenalty * node.errorRate) * 2 ** Math.min(node.consecutiveFailures, 4);
    node.healthScore = this.healthScore(node, now);

    if (node.state === 'probing') {
      node.probeInFlight = false;
      this.clearNodeTimer(node);
      if (failed) this.eject(node, 'probe-failed', now, true);
      else this.recover(node, now);
      return;
    }
    if (failed && node.state === 'healthy' && this.outlier !== undefined) {
      const o = this.outlier;
      if (node.consecutiveFailures >= o.consecutiveFailures) this.eject(node, 'consecutive-failures', now, false);
      else if (node.decayedRequests >= o.minRequests && node.errorRate >= o.errorRateThreshold) {
        this.eject(node, 'error-rate', now, false);
      }
    }
  }

  private eject(node: UpstreamNode, reason: EjectionReason, now: number, already: boolean): void {
    const o = this.outlier!;
    if (!already) {
      const ejected = this.active.reduce(
        (count, n) => count + (n.state === 'ejected' || n.state === 'probing' ? 1 : 0),
        0,
      );
      const allowed = Math.max(1, Math.floor((this.active.length * o.maxEjectionPercent) / 100));
      if (ejected >= allowed) return;
    }
    const base = Math.min(o.maxEjectionMs, o.baseEjectionMs * 2 ** node.ejections);
    const durationMs = Math.min(o.maxEjectionMs, base * (1 + o.jitter * this.random()));
    node.ejections++;
    node.state = 'ejected';
    node.admission = 0;
    node.ejectedUntil = now + durationMs;
    node.consecutiveFailures = 0;
    this.clearNodeTimer(node);
    this.nodeTimers.set(
      node,
      this.clock.setTimeout(() => this.startProbing(node), durationMs),
    );
    this.emit('ejected', { balancer: this.name, node: this.snapshot(node, now), reason, durationMs });
    this.refresh();
  }

  private startProbing(node: UpstreamNode): void {
    this.nodeTimers.delete(node);
    if (node.state !== 'ejected' || node.activeFailing) return;
    node.state = 'probing';
    node.admission = ADMIT_PROBE;
    node.probeInFlight = false;
    this.refresh();
    this.emit('probing', { balancer: this.name, node: this.snapshot(node, this.clock.now()) });
  }

  /** Half-open: exactly one request at a time reaches a probing node. */
  private startProbe(node: UpstreamNode): void {
    if (node.probeInFlight || node.state !== 'probing') return;
    node.probeInFlight = true;
    node.selectable = false;
    this.nodeTimers.set(
      node,
      this.clock.setTimeout(() => this.cancelProbe(node), this.outlier?.probeTimeoutMs ?? 30_000),
    );
    this.refresh();
  }

  private cancelProbe(node: UpstreamNode): void {
    if (!node.probeInFlight) return;
    node.probeInFlight = false;
    this.clearNodeTimer(node);
    this.refresh();
  }

  private recover(node: UpstreamNode, now: number): void {
    node.state = 'healthy';
    node.admission = 0;
    node.ejectedUntil = 0;
    node.decayedFailures = 0;
    node.decayedRequests = 0;
    node.errorFactor = 1;
    node.consecutiveFailures = 0;
    this.startSlowStart(node, now);
    node.healthScore = this.healthScore(node, now);
    this.refresh();
    this.emit('recovered', { balancer: this.name, node: this.snapshot(node, now) });
  }

  private startSlowStart(node: UpstreamNode, now: number): void {
    if (this.slowStartWindowMs <= 0 || this.slowStartMinFactor >= 1) return;
    node.slowStartFrom = now;
    node.slowStartUntil = now + this.slowStartWindowMs;
    node.admission |= ADMIT_SLOW_START;
  }

  private slowStartFactor(node: UpstreamNode, now: number): number {
    if (now >= node.slowStartUntil) return 1;
    return Math.max(this.slowStartMinFactor, (now - node.slowStartFrom) / this.slowStartWindowMs);
  }

  /** (1 − error rate) × min(1, cluster median latency / own latency) × slow-start factor; 0 when out of rotation. */
  private healthScore(node: UpstreamNode, now: number): number {
    if (node.state === 'ejected' || node.state === 'draining') return 0;
    const latency = node.latencyAt(now, this.decayMs);
    const reference = this.reference(now);
    const latencyFactor = latency > 0 && reference > 0 ? Math.min(1, reference / latency) : 1;
    return (1 - node.errorRate) * latencyFactor * this.slowStartFactor(node, now);
  }

  private reference(now: number): number {
    // Refreshed by time and by volume (once per n/4 outcomes), so the O(n log n) median stays amortized O(log n).
    if (
      this.referenceLatency === 0 ||
      now - this.referenceStamp >= REFERENCE_REFRESH_MS ||
      ++this.recordsSinceReference >= Math.max(8, this.active.length >> 2)
    ) {
      this.referenceLatency = this.medianLatency(now);
      this.referenceStamp = now;
      this.recordsSinceReference = 0;
    }
    return this.referenceLatency;
  }

  /** Median latency of the nodes that have answered at least once (seeded estimates are not evidence). */
  private medianLatency(now: number): number {
    const values = this.active.filter((node) => node.requests > 0).map((node) => node.latencyAt(now, this.decayMs));
    if (values.length === 0) return 0;
    values.sort((a, b) => a - b);
    const mid = values.length >> 1;
    return values.length % 2 ? values[mid] : (values[mid - 1] + values[mid]) / 2;
  }

  private insert(node: UpstreamNode, now: number, slowStart: boolean): void {
    // New nodes start at the cluster median, so they are neither stampeded nor starved (Linkerd seeds a constant).
    node.cost = this.medianLatency(now) || this.initialLatencyMs;
    node.costStamp = now;
    node.rateStamp = now;
    if (slowStart) this.startSlowStart(node, now);
    this.members.set(node.id, node);
    this.active.push(node);
    this.membershipVersion++;
  }

  private finishRemoval(node: UpstreamNode): void {
    if (this.members.get(node.id) !== node) return;
    this.clearNodeTimer(node);
    this.members.delete(node.id);
    const snapshot = this.snapshot(node, this.clock.now());
    this.drains.get(node)?.resolve(true);
    this.drains.delete(node);
    this.emit('node-removed', { balancer: this.name, node: snapshot });
  }

  private clearNodeTimer(node: UpstreamNode): void {
    const timer = this.nodeTimers.get(node);
    if (timer !== undefined) {
      this.clock.clearTimeout(timer);
      this.nodeTimers.delete(node);
    }
  }

  /** Recomputes the selectable set and panic state, then hands it to the strategy. O(n); runs on state changes only. */
  private refresh(): void {
    const active = this.active;
    const healthy = active.filter(
      (n) => !n.activeFailing && (n.state === 'healthy' || (n.state === 'probing' && !n.probeInFlight)),
    );
    const panic = active.length > 0 && healthy.length < this.panicThreshold * active.length;
    const selectable = panic ? active : healthy;
    for (const node of active) node.selectable = false;
    for (const node of selectable) node.selectable = true;
    this.strategy.update({ selectable, members: active, membershipVersion: this.membershipVersion });
    if (panic !== this.panicking) {
      this.panicking = panic;
      this.emit('panic', { balancer: this.name, active: panic, healthy: healthy.length, total: active.length });
    }
  }

  private snapshot(node: UpstreamNode, now: number): NodeSnapshot {
    const snapshot: NodeSnapshot = {
      id: node.id,
      host: node.host,
      port: node.port,
      weight: node.weight,
      state: node.state,
      healthScore: node.state === 'draining' ? 0 : this.healthScore(node, now),
      inFlight: node.inFlight,
      latencyMs: node.latencyAt(now, this.decayMs),
      errorRate: node.errorRate,
      consecutiveFailures: node.consecutiveFailures,
      ejections: node.ejections,
      ejectedForMs:
        node.state === 'ejected' && Number.isFinite(node.ejectedUntil) ? Math.max(0, node.ejectedUntil - now) : 0,
      slowStartFactor: this.slowStartFactor(node, now),
      requests: node.requests,
      failures: node.failures,
    };
    if (node.metadata !== undefined) snapshot.metadata = node.metadata;
    return snapshot;
  }

  private emit<E extends keyof LoadBalancerEvents>(event: E, payload: LoadBalancerEvents[E]): void {
    try {
      this.emitter.emit(event, payload);
    } catch (error) {
      this.logger.error(`A "${event}" listener threw: ${String(error)}`);
    }
  }
}

function resolveHealthCheck(options: HealthCheckOptions): HealthCheckSettings {
  return {
    intervalMs: options.intervalMs ?? 10_000,
    timeoutMs: options.timeoutMs ?? 2_000,
    healthyThreshold: options.healthyThreshold ?? 2,
    unhealthyThreshold: options.unhealthyThreshold ?? 3,
  };
}

function checkerInstance(options: HealthCheckOptions, protocol: 'http' | 'https' | undefined): HealthChecker {
  if (options.checker !== undefined && typeof options.checker !== 'function') return options.checker;
  return new HttpHealthChecker(options.path ?? '/health', protocol ?? 'http');
}
