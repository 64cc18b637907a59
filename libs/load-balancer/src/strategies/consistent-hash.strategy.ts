import { Injectable } from '@nestjs/common';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { NodeSet } from './load-balancing-strategy.js';
import { LoadBalancingStrategy } from './load-balancing-strategy.js';
import { hashString, MaglevTable } from './maglev-table.js';

/** Alternative slots tried for a key whose node is not selectable before falling back to any selectable node. */
const MAX_PROBES = 16;

/**
 * Sticky routing by `key` over a Maglev table: the same key reaches the same node, and removing one of N nodes moves
 * about 1/N of keys. The table covers every member and is rebuilt only when membership changes (not on health
 * changes); a key whose node is ejected walks a key-specific sequence of other slots, so it lands on a healthy node and
 * comes back when its node recovers. Without a key, a random slot is used.
 * @publicApi
 */
@Injectable()
export class ConsistentHashStrategy extends LoadBalancingStrategy {
  private table = new MaglevTable([]);
  private membershipVersion = -1;

  pick(key?: string): UpstreamNode | undefined {
    return this.lookup(key, undefined);
  }

  override pickExcluding(key: string | undefined, excluded: ReadonlySet<UpstreamNode>): UpstreamNode | undefined {
    return this.lookup(key, excluded) ?? this.pick(key);
  }

  protected override onUpdate(set: NodeSet): void {
    if (set.membershipVersion === this.membershipVersion) return;
    this.membershipVersion = set.membershipVersion;
    this.table = new MaglevTable(set.members);
  }

  private lookup(key: string | undefined, excluded: ReadonlySet<UpstreamNode> | undefined): UpstreamNode | undefined {
    const { slots, size, nodes: members } = this.table;
    if (members.length === 0) return undefined;
    const hash = key === undefined ? Math.floor(this.random() * 4294967296) : hashString(key);
    const node = members[slots[hash % size]];
    if (node.selectable && excluded?.has(node) !== true) return node;
    const step = (hashString(String(hash), 0x27d4eb2d) % (size - 1)) + 1;
    for (let probe = 1; probe <= MAX_PROBES; probe++) {
      const candidate = members[slots[(hash + probe * step) % size]];
      if (candidate.selectable && excluded?.has(candidate) !== true) return candidate;
    }
    for (const candidate of this.nodes) if (excluded?.has(candidate) !== true) return candidate;
    return undefined;
  }
}
