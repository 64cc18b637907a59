import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock/manual-clock.js';
import { NoAvailableNodeError } from '../errors/no-available-node.error.js';
import { BalancerEvents } from '../events/balancer-events.js';
import { ADMIT_PROBE, UpstreamNode } from '../node/upstream-node.js';
import { RoundRobinStrategy } from '../strategies/round-robin.strategy.js';
import { NodeSelector } from './node-selector.js';
import { SlowStart } from './slow-start.js';

/** The selector alone over a round-robin strategy; node states are set by hand. */
function setup(size = 4, random = () => 0.99) {
  const clock = new ManualClock();
  const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', i + 1, 1));
  const events = new BalancerEvents(new Logger('test'));
  const panics: boolean[] = [];
  events.on('panic', ({ active }) => panics.push(active));
  const strategy = new RoundRobinStrategy();
  strategy.bind({ clock, random, latencyDecayMs: 1_000 });
  const probes: string[] = [];
  const slowStart = new SlowStart({ windowMs: 1_000, minFactor: 0.1 });
  const selector = new NodeSelector(0.5, {
    balancer: 'test',
    clock,
    random,
    strategy,
    slowStart,
    events,
    locality: undefined,
    membership: { active: nodes, version: 1 },
    probeAdmitted: (node) => probes.push(node.id),
  });
  selector.refresh();
  return { clock, nodes, selector, panics, probes, slowStart };
}

describe('NodeSelector (issue 16 redesign)', () => {
  it('offers healthy nodes and idle probes only, and enters panic below panicThreshold', () => {
    const { nodes, selector, panics } = setup();
    nodes[0].state = 'ejected';
    nodes[1].state = 'probing';
    nodes[1].probeInFlight = true;
    selector.refresh();
    expect(nodes.map((n) => n.selectable)).toEqual([false, false, true, true]);
    expect(selector.inPanic).toBe(false);
    nodes[2].state = 'ejected';
    selector.refresh();
    expect(selector.inPanic).toBe(true);
    expect(nodes.every((n) => n.selectable)).toBe(true);
    expect(panics).toEqual([true]);
  });

  it('a pick of a probing node takes its half-open slot', () => {
    const { nodes, selector, probes } = setup(1);
    nodes[0].state = 'probing';
    nodes[0].admission = ADMIT_PROBE;
    selector.refresh();
    expect(selector.pick(undefined)).toBe(nodes[0]);
    expect(probes).toEqual(['n0']);
  });

  it('slow start: a warming node gives its pick away with probability 1 − factor, and is left alone once warm', () => {
    const { clock, nodes, selector, slowStart } = setup(2);
    slowStart.begin(nodes[0], 0);
    const firstPicks = Array.from({ length: 10 }, () => selector.pick(undefined).id);
    expect(firstPicks.every((id) => id === 'n1')).toBe(true);
    clock.advance(1_000);
    selector.pick(undefined);
    selector.pick(undefined);
    expect(nodes[0].admission).toBe(0);
  });

  it('throws NoAvailableNodeError naming the member count when nothing is selectable', () => {
    const { nodes, selector } = setup(2);
    const empty = new NodeSelector(0, {
      ...(selector as unknown as { deps: ConstructorParameters<typeof NodeSelector>[1] }).deps,
      membership: { active: nodes, version: 2 },
    });
    for (const n of nodes) n.state = 'ejected';
    empty.refresh();
    expect(() => empty.pick(undefined)).toThrow(NoAvailableNodeError);
    expect(() => empty.pick(undefined)).toThrow(/has 2 node\(s\) but none can take a request/);
  });
});
