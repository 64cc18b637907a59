import type { Clock, TimerHandle } from '../clock/clock.js';
import { InvalidLoadBalancerOptionsError } from '../errors/invalid-load-balancer-options.error.js';
import type { BalancerEvents } from '../events/balancer-events.js';
import type { NodeSnapshot } from '../interfaces/node-snapshot.interface.js';
import { DUPLICATE_NODE } from '../load-balancer.messages.js';
import type { ResolvedNodeConfig } from '../load-balancer-options.validator.js';
import { UpstreamNode } from '../node/upstream-node.js';

/** One pending removal: every `removeNode` call for the node shares it; the earliest drain deadline wins. */
interface Drain {
  readonly promise: Promise<boolean>;
  readonly resolve: (removed: boolean) => void;
  deadline: number;
  timer: TimerHandle | undefined;
}

/** What the rest of the balancer does when membership changes. */
export interface MembershipHooks {
  /** A node is about to join rotation: seed its health model (and slow start when `slowStart`). */
  joining(node: UpstreamNode, now: number, slowStart: boolean): void;
  /** A node left rotation for good (draining): drop its timers and probe slot. */
  leaving(node: UpstreamNode): void;
  /** The nodes in rotation changed. */
  changed(): void;
  snapshot(node: UpstreamNode, now: number): NodeSnapshot;
}

/**
 * Who is a member: the id → node map, the nodes in rotation (members not draining) in insertion order, the
 * membership version strategies key their tables on, and the drains of removed nodes with their deadlines. Owns the
 * `draining` state and `discovered`.
 */
export class NodeMembership {
  private readonly members = new Map<string, UpstreamNode>();
  private inRotation: UpstreamNode[] = [];
  private membershipVersion = 0;
  private readonly drains = new Map<UpstreamNode, Drain>();

  constructor(
    private readonly balancer: string,
    private readonly clock: Clock,
    private readonly events: BalancerEvents,
    private readonly hooks: MembershipHooks,
  ) {}

  /** Members not being drained, in insertion order. */
  get active(): readonly UpstreamNode[] {
    return this.inRotation;
  }

  get version(): number {
    return this.membershipVersion;
  }

  get(id: string): UpstreamNode | undefined {
    return this.members.get(id);
  }

  has(id: string): boolean {
    return this.members.has(id);
  }

  isMember(node: UpstreamNode): boolean {
    return this.members.get(node.id) === node;
  }

  all(): IterableIterator<UpstreamNode> {
    return this.members.values();
  }

  /** The initial nodes: no event, no slow start; the caller publishes the set once they are all in. */
  seed(configs: readonly ResolvedNodeConfig[]): void {
    const now = this.clock.now();
    for (const config of configs) this.insert(nodeFrom(config), now, false);
  }

  /** Adds a node (slow start when others already serve), publishes the set and emits `node-added`. */
  add(config: ResolvedNodeConfig, slowStart: boolean, discovered: boolean): NodeSnapshot {
    if (this.members.has(config.id))
      throw new InvalidLoadBalancerOptionsError(DUPLICATE_NODE(this.balancer, config.id));
    const node = nodeFrom(config);
    node.discovered = discovered;
    const now = this.clock.now();
    this.insert(node, now, slowStart);
    this.hooks.changed();
    const snapshot = this.hooks.snapshot(node, now);
    this.events.emit('node-added', { balancer: this.balancer, node: snapshot });
    return snapshot;
  }

  /**
   * Takes the node out of rotation at once and removes it when its in-flight tries settle, or at the earliest
   * `drainTimeoutMs` of the calls for it. Resolves true once removed.
   */
  drain(node: UpstreamNode, drainTimeoutMs: number | undefined): Promise<boolean> {
    if (node.state !== 'draining') {
      node.state = 'draining';
      this.hooks.leaving(node);
      this.inRotation = this.inRotation.filter((n) => n !== node);
      this.membershipVersion++;
      this.hooks.changed();
    }
    if (node.inFlight === 0) {
      this.finishRemoval(node);
      return Promise.resolve(true);
    }
    let drain = this.drains.get(node);
    if (drain === undefined) {
      let resolve!: (removed: boolean) => void;
      const promise = new Promise<boolean>((r) => (resolve = r));
      drain = { promise, resolve, deadline: Number.POSITIVE_INFINITY, timer: undefined };
      this.drains.set(node, drain);
    }
    const deadline = drainTimeoutMs === undefined ? Number.POSITIVE_INFINITY : this.clock.now() + drainTimeoutMs;
    if (drainTimeoutMs !== undefined && deadline < drain.deadline) {
      drain.deadline = deadline;
      if (drain.timer !== undefined) this.clock.clearTimeout(drain.timer);
      drain.timer = this.clock.setTimeout(() => this.finishRemoval(node), drainTimeoutMs);
    }
    return drain.promise;
  }

  /** Input: a try on the node settled. A draining node with nothing in flight is removed. */
  settled(node: UpstreamNode): void {
    if (node.inFlight === 0 && node.state === 'draining') this.finishRemoval(node);
  }

  /** Stops drain deadline timers (a drain still completes when its in-flight tries settle). */
  close(): void {
    for (const drain of this.drains.values()) {
      if (drain.timer !== undefined) this.clock.clearTimeout(drain.timer);
      drain.timer = undefined;
    }
  }

  private insert(node: UpstreamNode, now: number, slowStart: boolean): void {
    this.hooks.joining(node, now, slowStart);
    this.members.set(node.id, node);
    this.inRotation.push(node);
    this.membershipVersion++;
  }

  private finishRemoval(node: UpstreamNode): void {
    if (this.members.get(node.id) !== node) return;
    const drain = this.drains.get(node);
    if (drain?.timer !== undefined) this.clock.clearTimeout(drain.timer);
    this.members.delete(node.id);
    const snapshot = this.hooks.snapshot(node, this.clock.now());
    drain?.resolve(true);
    this.drains.delete(node);
    this.events.emit('node-removed', { balancer: this.balancer, node: snapshot });
  }
}

function nodeFrom(config: ResolvedNodeConfig): UpstreamNode {
  return new UpstreamNode(config.id, config.host, config.port, config.weight, config.metadata, config.zone);
}
