import { ManualClock } from '../clock/manual-clock.js';
import type { LoadBalancerOptions } from '../interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { seededRandom } from '../random/random-source.js';

function balancer(
  options: Partial<LoadBalancerOptions> & Pick<LoadBalancerOptions, 'strategy'>,
  clock = new ManualClock(),
) {
  return new LoadBalancer({
    nodes: [
      { id: 'a', host: '10.0.0.1', port: 80 },
      { id: 'b', host: '10.0.0.2', port: 80 },
      { id: 'c', host: '10.0.0.3', port: 80 },
    ],
    clock,
    random: seededRandom(7),
    ...options,
  });
}

function count(picks: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const id of picks) counts[id] = (counts[id] ?? 0) + 1;
  return counts;
}

describe('round-robin', () => {
  it('visits every node in turn, evenly', () => {
    const lb = balancer({ strategy: 'round-robin' });
    const picks = Array.from({ length: 300 }, () => lb.pick().id);
    expect(count(picks)).toEqual({ a: 100, b: 100, c: 100 });
    for (let i = 3; i < picks.length; i++) expect(picks[i]).toBe(picks[i - 3]);
  });

  it('stays in range and fair after a node is removed mid-cycle', async () => {
    const lb = balancer({ strategy: 'round-robin' });
    lb.pick();
    lb.pick();
    await lb.removeNode('c');
    const picks = Array.from({ length: 100 }, () => lb.pick().id);
    expect(count(picks)).toEqual({ a: 50, b: 50 });
  });
});

const weighted = () =>
  balancer({
    strategy: 'weighted-round-robin',
    nodes: [
      { id: 'a', host: 'h', port: 1, weight: 5 },
      { id: 'b', host: 'h', port: 2, weight: 1 },
      { id: 'c', host: 'h', port: 3, weight: 1 },
    ],
  });

describe('weighted-round-robin (smooth)', () => {
  it('gives the NGINX sequence a a b a c a a for 5:1:1', () => {
    const lb = weighted();
    expect(Array.from({ length: 14 }, () => lb.pick().id).join(' ')).toBe('a a b a c a a a a b a c a a');
  });

  it('keeps exact proportions in every window of one period', () => {
    const lb = weighted();
    const picks = Array.from({ length: 7000 }, () => lb.pick().id);
    expect(count(picks)).toEqual({ a: 5000, b: 1000, c: 1000 });
    // Smoothness: any 7 consecutive picks hold exactly 5 a, 1 b, 1 c (a bursty WRR gives a a a a a b c).
    for (let i = 0; i + 7 <= picks.length; i += 1) {
      expect(count(picks.slice(i, i + 7))).toEqual({ a: 5, b: 1, c: 1 });
    }
  });

  it('handles non-integer weights with the direct O(n) step', () => {
    const lb = balancer({
      strategy: 'weighted-round-robin',
      nodes: [
        { id: 'a', host: 'h', port: 1, weight: 1.5 },
        { id: 'b', host: 'h', port: 2, weight: 0.5 },
      ],
    });
    expect(count(Array.from({ length: 400 }, () => lb.pick().id))).toEqual({ a: 300, b: 100 });
  });

  it('never picks a weight-0 node while others have weight', () => {
    const lb = balancer({
      strategy: 'weighted-round-robin',
      nodes: [
        { id: 'a', host: 'h', port: 1, weight: 2 },
        { id: 'standby', host: 'h', port: 2, weight: 0 },
      ],
    });
    expect(new Set(Array.from({ length: 50 }, () => lb.pick().id))).toEqual(new Set(['a']));
  });
});

describe('least-connections', () => {
  it('picks the node with the fewest requests in flight, not the fewest total requests', async () => {
    const lb = balancer({ strategy: 'least-connections' });
    // Many completed requests must not count against a node.
    for (let i = 0; i < 20; i++) await lb.execute(() => 'done');
    const held: Array<{ id: string; release: () => void }> = [];
    const hold = () => lb.execute((node) => new Promise<void>((release) => held.push({ id: node.id, release })));
    const calls = [hold(), hold(), hold()];
    expect(new Set(held.map((h) => h.id))).toEqual(new Set(['a', 'b', 'c']));
    calls.push(hold(), hold());
    // Now two nodes hold 2 requests and one holds 1: release one request of a 2-node.
    const busy = held.find((h, i) => i >= 3)!;
    busy.release();
    await calls[3];
    const idle = held.find((h) => held.filter((x) => x.id === h.id).length === 1)!.id;
    expect(new Set(Array.from({ length: 30 }, () => lb.pick().id))).toEqual(new Set([busy.id, idle].toSorted()));
    held.forEach((h) => h.release());
    await Promise.all(calls);
    expect(lb.nodes().map((n) => n.inFlight)).toEqual([0, 0, 0]);
  });

  it('always matches a brute-force minimum while requests start and finish in random order', async () => {
    const lb = balancer({
      strategy: 'least-connections',
      outlierDetection: false,
      nodes: Array.from({ length: 8 }, (_, i) => ({ id: `n${i}`, host: 'h', port: i + 1 })),
    });
    const random = seededRandom(99);
    const open: Array<() => void> = [];
    const calls: Promise<unknown>[] = [];
    const misses: string[] = [];
    for (let step = 0; step < 2000; step++) {
      if (open.length > 0 && random() < 0.45) {
        open.splice(Math.floor(random() * open.length), 1)[0]();
        await Promise.resolve();
        await Promise.resolve();
      } else {
        const min = Math.min(...lb.nodes().map((n) => n.inFlight));
        const picked = lb.pick();
        const load = lb.nodes().find((n) => n.id === picked.id)!.inFlight;
        if (load !== min) misses.push(`step ${step}: picked ${picked.id} with ${load} in flight, minimum ${min}`);
        calls.push(lb.execute(() => new Promise<void>((resolve) => open.push(resolve))));
      }
    }
    expect(misses).toEqual([]);
    expect(calls.length).toBeGreaterThan(800);
    open.forEach((release) => release());
    await Promise.all(calls);
    expect(lb.nodes().every((n) => n.inFlight === 0)).toBe(true);
  });

  it('shares ties evenly', () => {
    const lb = balancer({ strategy: 'least-connections' });
    expect(count(Array.from({ length: 300 }, () => lb.pick().id))).toEqual({ a: 100, b: 100, c: 100 });
  });
});

describe('weighted-random', () => {
  it('draws in proportion to weight', () => {
    const lb = balancer({
      strategy: 'weighted-random',
      nodes: [
        { id: 'a', host: 'h', port: 1, weight: 3 },
        { id: 'b', host: 'h', port: 2, weight: 1 },
      ],
    });
    const counts = count(Array.from({ length: 40_000 }, () => lb.pick().id));
    expect(counts.a / 40_000).toBeCloseTo(0.75, 1);
    expect(Math.abs(counts.a / 40_000 - 0.75)).toBeLessThan(0.01);
  });

  it('shrinks the share of a node whose health score drops', () => {
    const lb = balancer({ strategy: 'weighted-random', outlierDetection: false });
    for (let i = 0; i < 20; i++) {
      lb.report('a', { latencyMs: 100, error: i % 2 === 0 });
      lb.report('b', { latencyMs: 100 });
      lb.report('c', { latencyMs: 100 });
    }
    const a = lb.nodes().find((n) => n.id === 'a')!;
    expect(a.errorRate).toBeGreaterThan(0.4);
    expect(a.healthScore).toBeLessThan(0.6);
    const counts = count(Array.from({ length: 30_000 }, () => lb.pick().id));
    expect(counts.a / 30_000).toBeLessThan(0.25);
    expect(counts.b / 30_000).toBeGreaterThan(0.35);
  });
});

describe('p2c-ewma', () => {
  it('never picks the most loaded node: the two choices are distinct', async () => {
    const lb = balancer({
      strategy: 'p2c-ewma',
      nodes: ['a', 'b', 'c', 'd'].map((id, i) => ({ id, host: 'h', port: i + 1 })),
    });
    const held: Array<{ id: string; release: () => void }> = [];
    const calls = Array.from({ length: 40 }, () =>
      lb.execute((node) => new Promise<void>((release) => held.push({ id: node.id, release }))),
    );
    for (const call of held.filter((h) => h.id !== 'd')) call.release();
    await Promise.all(calls.filter((_, i) => held[i].id !== 'd'));
    expect(lb.nodes().find((n) => n.id === 'd')!.inFlight).toBeGreaterThan(0);
    const picks = count(Array.from({ length: 2000 }, () => lb.pick().id));
    expect(picks.d).toBeUndefined();
    held.forEach((h) => h.release());
    await Promise.all(calls);
  });

  it('shifts traffic away from a slow node and back when it recovers', async () => {
    const clock = new ManualClock();
    const lb = balancer(
      {
        strategy: 'p2c-ewma',
        outlierDetection: false,
        nodes: Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, host: 'h', port: i + 1 })),
      },
      clock,
    );
    const share = (slowMs: number, rounds: number) => {
      let slow = 0;
      for (let i = 0; i < rounds; i++) {
        clock.advance(5);
        const node = lb.pick();
        if (node.id === 'n0') slow++;
        lb.report(node.id, { latencyMs: node.id === 'n0' ? slowMs : 100 });
      }
      return slow / rounds;
    };
    share(100, 2000);
    const slowShare = share(2000, 4000);
    expect(slowShare).toBeLessThan(0.02);
    // Recovered: after the estimate decays, n0 is tried again and its traffic returns.
    clock.advance(60_000);
    expect(share(100, 4000)).toBeGreaterThan(0.05);
  });

  it('seeds a new node with the cluster median latency', () => {
    const lb = balancer({ strategy: 'p2c-ewma' });
    lb.report('a', { latencyMs: 100 });
    lb.report('b', { latencyMs: 200 });
    lb.report('c', { latencyMs: 300 });
    const added = lb.addNode({ id: 'd', host: 'h', port: 9 });
    expect(added.latencyMs).toBe(200);
  });

  it('does not let a fast-failing node look faster', () => {
    const lb = balancer({ strategy: 'p2c-ewma', outlierDetection: false });
    lb.report('a', { latencyMs: 200 });
    lb.report('a', { latencyMs: 1, error: new Error('refused') });
    expect(lb.nodes().find((n) => n.id === 'a')!.latencyMs).toBe(200);
  });
});

const ten = () =>
  balancer({
    strategy: 'consistent-hash',
    nodes: Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, host: 'h', port: i + 1 })),
  });

describe('consistent-hash', () => {
  const keys = Array.from({ length: 20_000 }, (_, i) => `user:${i}`);
  it('sends the same key to the same node and spreads keys evenly', () => {
    const lb = ten();
    const first = keys.map((k) => lb.pick(k).id);
    expect(keys.map((k) => lb.pick(k).id)).toEqual(first);
    for (const n of Object.values(count(first))) expect(Math.abs(n - 2000)).toBeLessThan(200);
  });

  it('moves about 1/N of keys when one of N nodes is removed', async () => {
    const lb = ten();
    const before = keys.map((k) => lb.pick(k).id);
    await lb.removeNode('n3');
    const after = keys.map((k) => lb.pick(k).id);
    const moved = before.filter((id, i) => id !== after[i]).length / keys.length;
    expect(moved).toBeGreaterThan(0.08);
    expect(moved).toBeLessThan(0.13);
    const survivorsMoved = before.filter((id, i) => id !== 'n3' && id !== after[i]).length / keys.length;
    expect(survivorsMoved).toBeLessThan(0.02);
    expect(after).not.toContain('n3');
  });

  it('reroutes the keys of an ejected node and brings them back on recovery', () => {
    const clock = new ManualClock();
    const lb = balancer(
      {
        strategy: 'consistent-hash',
        slowStart: false,
        nodes: Array.from({ length: 10 }, (_, i) => ({ id: `n${i}`, host: 'h', port: i + 1 })),
      },
      clock,
    );
    const before = keys.map((k) => lb.pick(k).id);
    for (let i = 0; i < 5; i++) lb.report('n3', { latencyMs: 10, error: true });
    expect(lb.nodes().find((n) => n.id === 'n3')!.state).toBe('ejected');
    const during = keys.map((k) => lb.pick(k).id);
    expect(during).not.toContain('n3');
    expect(before.filter((id, i) => id !== 'n3' && id !== during[i])).toEqual([]);
    clock.advance(10_000);
    expect(lb.nodes().find((n) => n.id === 'n3')!.state).toBe('probing');
    lb.report('n3', { latencyMs: 10 });
    expect(keys.map((k) => lb.pick(k).id)).toEqual(before);
  });
});
