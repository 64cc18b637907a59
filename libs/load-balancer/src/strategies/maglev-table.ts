import type { UpstreamNode } from '../node/upstream-node.js';

/** Primes used as table sizes; the table is the smallest one with at least 100 slots per node (Maglev's guidance). */
const TABLE_SIZES = [65_537, 131_071, 262_147, 524_287, 1_048_573];

/**
 * A Maglev lookup table (Eisenbud et al., NSDI 2016): each node walks its own permutation of slots and nodes take
 * turns claiming free ones, in proportion to their weight. Removing one of N nodes remaps about 1/N of slots.
 */
export class MaglevTable {
  readonly size: number;
  readonly slots: Int32Array;

  constructor(readonly nodes: readonly UpstreamNode[]) {
    const n = nodes.length;
    this.size = TABLE_SIZES.find((size) => size >= n * 100) ?? TABLE_SIZES.at(-1)!;
    const size = this.size;
    this.slots = new Int32Array(size).fill(-1);
    if (n === 0) return;
    const offset = new Float64Array(n);
    const skip = new Float64Array(n);
    const next = new Float64Array(n);
    const claimed = new Float64Array(n);
    const maxWeight = Math.max(...nodes.map((node) => node.weight));
    const share = nodes.map((node) => (maxWeight > 0 ? node.weight / maxWeight : 1));
    nodes.forEach((node, i) => {
      offset[i] = hashString(node.id, 0x9747b28c) % size;
      skip[i] = (hashString(node.id, 0x5bd1e995) % (size - 1)) + 1;
    });
    let filled = 0;
    for (let round = 1; filled < size; round++) {
      for (let i = 0; i < n && filled < size; i++) {
        if (claimed[i] >= round * share[i]) continue;
        let slot = (offset[i] + next[i] * skip[i]) % size;
        while (this.slots[slot] >= 0) {
          next[i]++;
          slot = (offset[i] + next[i] * skip[i]) % size;
        }
        this.slots[slot] = i;
        next[i]++;
        claimed[i]++;
        filled++;
      }
    }
  }
}

/** 32-bit FNV-1a followed by the murmur3 finalizer, so nearby keys spread over the whole table. */
export function hashString(value: string, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (let i = 0; i < value.length; i++) {
    h ^= value.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
