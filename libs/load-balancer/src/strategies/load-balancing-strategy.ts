import { systemClock, type Clock } from '../clock/clock.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { RandomSource } from '../random/random-source.js';

/** What the balancer hands a strategy before first use. @publicApi */
export interface StrategyContext {
  readonly clock: Clock;
  readonly random: RandomSource;
  /** Time constant of the peak-EWMA latency decay, in ms. */
  readonly latencyDecayMs: number;
}

/** The nodes a strategy may choose from, published whenever membership or node state changes. @publicApi */
export interface NodeSet {
  /** Nodes that may be returned now (healthy, idle probes, or every member in panic mode). */
  readonly selectable: readonly UpstreamNode[];
  /** Every member not being drained, whatever its health. */
  readonly members: readonly UpstreamNode[];
  /** Changes only when nodes are added or removed (not on health changes). */
  readonly membershipVersion: number;
}

/**
 * Base class of every strategy. The balancer calls `update` off the hot path whenever the selectable set changes, so
 * `pick` can be O(1) over precomputed arrays. Subclasses are Nest providers: decorate them with `@Injectable()` and
 * pass the class as the `strategy` option; constructor dependencies are injected.
 * @publicApi
 */
export abstract class LoadBalancingStrategy {
  protected clock: Clock = systemClock;
  protected random: RandomSource = Math.random;
  protected latencyDecayMs = 10_000;
  /** The selectable nodes of the last `update`. */
  protected nodes: readonly UpstreamNode[] = [];

  /** Called once by the owning balancer. */
  bind(context: StrategyContext): void {
    this.clock = context.clock;
    this.random = context.random;
    this.latencyDecayMs = context.latencyDecayMs;
  }

  update(set: NodeSet): void {
    this.nodes = set.selectable;
    this.onUpdate(set);
  }

  /** Hot path: choose a node among the selectable ones, or `undefined` when there is none. */
  abstract pick(key?: string): UpstreamNode | undefined;

  /**
   * Choose a node not in `excluded` (retries). Falls back to an excluded node only when every selectable node was
   * excluded. The default asks `pick` once, then draws uniformly among the remaining nodes.
   */
  pickExcluding(key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    const first = this.pick(key);
    if (first === undefined || !excluded.has(first)) return first;
    let chosen: UpstreamNode | undefined;
    let seen = 0;
    for (const node of this.nodes) {
      if (excluded.has(node)) continue;
      seen++;
      if (this.random() * seen < 1) chosen = node;
    }
    return chosen ?? first;
  }

  /**
   * Called whenever a node's in-flight count changes (by one). Strategies that index nodes by load override it;
   * the default does nothing.
   */
  inFlightChanged(node: UpstreamNode, previous: number): void {
    void node;
    void previous;
  }

  /** Precompute whatever `pick` needs; `this.nodes` is already set. */
  protected onUpdate(set: NodeSet): void {
    void set;
  }
}
