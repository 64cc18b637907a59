import type { Logger } from '@nestjs/common';
import type { NodeDiscovery } from '../discovery/node-discovery.js';
import type { NodeConfig } from '../interfaces/node-config.interface.js';
import { DISCOVERY_ENTRY_SKIPPED, DISCOVERY_FAILED, DISCOVERY_NOT_A_LIST } from '../load-balancer.messages.js';
import { describeValue, resolveNodeConfig, type ResolvedNodeConfig } from '../load-balancer-options.validator.js';
import type { NodeMembership } from './node-membership.js';

/**
 * Reconciles membership with what a discovery provider returns: new ids join (with slow start once others serve),
 * discovered members that are gone drain. A failed or malformed resolution keeps the current nodes; an invalid entry
 * is skipped with a warning, and a member whose entry is now malformed is kept, not drained.
 */
export class DiscoveryReconciler {
  constructor(
    private readonly balancer: string,
    private readonly discovery: NodeDiscovery,
    private readonly membership: NodeMembership,
    private readonly logger: Logger,
  ) {}

  get intervalMs(): number {
    return this.discovery.refreshIntervalMs;
  }

  /** Rejects only if a custom strategy throws while membership changes. */
  async reconcile(): Promise<void> {
    const kept = this.membership.active.length;
    let found: unknown;
    try {
      found = await this.discovery.resolve();
    } catch (error) {
      this.logger.warn(DISCOVERY_FAILED(this.balancer, kept, String(error)));
      return;
    }
    if (!Array.isArray(found)) {
      this.logger.warn(DISCOVERY_NOT_A_LIST(this.balancer, describeValue(found), kept));
      return;
    }
    const valid: ResolvedNodeConfig[] = [];
    // Ids of every entry, invalid ones included.
    const wanted = new Set<string>();
    found.forEach((config: NodeConfig, index) => {
      try {
        const resolved = resolveNodeConfig(this.balancer, config, { kind: 'discovery', index });
        valid.push(resolved);
        wanted.add(resolved.id);
      } catch (error) {
        this.logger.warn(DISCOVERY_ENTRY_SKIPPED(this.balancer, (error as Error).message));
        const id = (config as Partial<NodeConfig> | null)?.id;
        if (typeof id === 'string') wanted.add(id);
        else if (config !== null && typeof config === 'object') wanted.add(`${config.host}:${config.port}`);
      }
    });
    // The first resolution is the initial membership: no slow start unless other nodes already serve.
    const slowStart = this.membership.active.length > 0;
    for (const resolved of valid) {
      if (!this.membership.has(resolved.id)) this.membership.add(resolved, slowStart, true);
    }
    for (const node of this.membership.active) {
      if (node.discovered && !wanted.has(node.id)) void this.membership.drain(node, undefined);
    }
  }
}
