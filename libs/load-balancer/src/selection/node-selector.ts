import type { Clock } from '../clock/clock.js';
import { NoAvailableNodeError } from '../errors/no-available-node.error.js';
import type { BalancerEvents } from '../events/balancer-events.js';
import { ADMIT_PROBE, type UpstreamNode } from '../node/upstream-node.js';
import type { RandomSource } from '../random/random-source.js';
import type { LoadBalancingStrategy } from '../strategies/load-balancing-strategy.js';
import type { LocalityRule } from './locality-rule.js';
import type { SlowStart } from './slow-start.js';

export interface NodeSelectorDeps {
  readonly balancer: string;
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly strategy: LoadBalancingStrategy;
  readonly slowStart: SlowStart;
  readonly events: BalancerEvents;
  readonly locality: LocalityRule | undefined;
  /** Nodes in rotation and the membership version. */
  readonly membership: { readonly active: readonly UpstreamNode[]; readonly version: number };
  /** A pick admitted a request to a probing node (the outlier detector takes the half-open slot). */
  readonly probeAdmitted: (node: UpstreamNode) => void;
}

/**
 * Turns node states into picks: publishes the selectable set to the strategy (healthy nodes and idle probes; every
 * member in panic mode; the local zone alone while it is healthy enough), and admits each picked node (probe slot,
 * slow-start ramp). Owns `selectable` and the panic flag.
 */
export class NodeSelector {
  private panicking = false;
  /** `deps.strategy`, held here so a pick does not load `deps` first (a field load is visible in a ~7 ns pick). */
  readonly strategy: LoadBalancingStrategy;

  constructor(
    private readonly panicThreshold: number,
    private readonly deps: NodeSelectorDeps,
  ) {
    this.strategy = deps.strategy;
  }

  get inPanic(): boolean {
    return this.panicking;
  }

  /** Hot path: one strategy pick; admission only for a node that probes or warms up. */
  pick(key: string | undefined): UpstreamNode {
    const node = this.strategy.pick(key);
    return node !== undefined && node.admission === 0 ? node : this.admitPick(node, key);
  }

  /**
   * The rest of `pick` for a strategy answer that is not a ready node: none (throws `NoAvailableNodeError`), or a node
   * that probes or warms up (admitted). `LoadBalancer.pick` calls the strategy itself, then this.
   */
  admitPick(node: UpstreamNode | undefined, key: string | undefined): UpstreamNode {
    if (node === undefined) throw new NoAvailableNodeError(this.deps.balancer, this.deps.membership.active.length);
    return node.admission === 0 ? node : this.admit(node, key, undefined);
  }

  /** A node not in `excluded` when one is selectable (retries, hedges), admitted; undefined when none is. */
  pickExcluding(key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    const node = this.strategy.pickExcluding(key, excluded);
    return node === undefined || node.admission === 0 ? node : this.admit(node, key, excluded);
  }

  /** Recomputes the selectable set and panic state and hands them to the strategy. O(n), on state changes only. */
  refresh(): void {
    const { membership, strategy, locality, events } = this.deps;
    const active = membership.active;
    const healthy = active.filter(
      (n) => !n.activeFailing && (n.state === 'healthy' || (n.state === 'probing' && !n.probeInFlight)),
    );
    const panic = active.length > 0 && healthy.length < this.panicThreshold * active.length;
    const selectable = panic ? active : locality === undefined ? healthy : locality.select(active, healthy);
    for (const node of active) node.selectable = false;
    for (const node of selectable) node.selectable = true;
    strategy.update({ selectable, members: active, membershipVersion: membership.version });
    if (panic !== this.panicking) {
      this.panicking = panic;
      events.emit('panic', {
        balancer: this.deps.balancer,
        active: panic,
        healthy: healthy.length,
        total: active.length,
      });
    }
  }

  private admit(
    node: UpstreamNode,
    key: string | undefined,
    excluded: ReadonlySet<UpstreamNode> | undefined,
  ): UpstreamNode {
    const { slowStart, strategy, probeAdmitted } = this.deps;
    if ((node.admission & ADMIT_PROBE) !== 0) {
      probeAdmitted(node);
      return node;
    }
    const factor = slowStart.factor(node, this.deps.clock.now());
    if (factor >= 1) {
      slowStart.end(node);
      return node;
    }
    if (this.deps.random() < factor) return node;
    // Warming up: give this pick to another node (one redraw, so the ramp costs at most one extra pick).
    const other = excluded === undefined ? strategy.pick(key) : strategy.pickExcluding(key, excluded);
    if (other === undefined || other === node) return node;
    if ((other.admission & ADMIT_PROBE) !== 0) probeAdmitted(other);
    return other;
  }
}
