import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock/manual-clock.js';
import { InvalidLoadBalancerOptionsError } from '../errors/invalid-load-balancer-options.error.js';
import { BalancerEvents } from '../events/balancer-events.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import { NodeMembership } from './node-membership.js';

/** Membership alone: hooks recorded, a ManualClock for drain deadlines. */
function setup() {
  const clock = new ManualClock();
  const events = new BalancerEvents(new Logger('test'));
  const log: string[] = [];
  events.on('node-added', ({ node }) => log.push(`added:${node.id}`));
  events.on('node-removed', ({ node }) => log.push(`removed:${node.id}`));
  const membership = new NodeMembership('test', clock, events, {
    joining: (node, _now, slowStart) => log.push(`joining:${node.id}:${slowStart}`),
    leaving: (node) => log.push(`leaving:${node.id}`),
    changed: () => log.push('changed'),
    snapshot: (node) => ({ id: node.id }) as never,
  });
  return { clock, membership, log };
}

const config = (id: string) => ({ id, host: 'h', port: 1, weight: 1 });

describe('NodeMembership (issue 16 redesign)', () => {
  it('seeds quietly, adds with an event and bumps the version on each change', () => {
    const { membership, log } = setup();
    membership.seed([config('a'), config('b')]);
    expect(log).toEqual(['joining:a:false', 'joining:b:false']);
    const version = membership.version;
    membership.add(config('c'), true, true);
    expect(log.slice(2)).toEqual(['joining:c:true', 'changed', 'added:c']);
    expect(membership.version).toBe(version + 1);
    expect(membership.get('c')!.discovered).toBe(true);
    expect(() => membership.add(config('c'), false, false)).toThrow(InvalidLoadBalancerOptionsError);
  });

  it('a drained node leaves rotation at once and is removed when its last try settles', async () => {
    const { membership, log } = setup();
    membership.seed([config('a'), config('b')]);
    const a = membership.get('a')!;
    a.inFlight = 1;
    const removed = membership.drain(a, undefined);
    expect(a.state).toBe('draining');
    expect(membership.active.map((n) => n.id)).toEqual(['b']);
    expect(membership.isMember(a)).toBe(true);
    a.inFlight = 0;
    membership.settled(a);
    await expect(removed).resolves.toBe(true);
    expect(membership.has('a')).toBe(false);
    expect(log.filter((l) => l.startsWith('leaving') || l.startsWith('removed'))).toEqual(['leaving:a', 'removed:a']);
  });

  it('the earliest drain deadline of several calls removes the node and settles them all', async () => {
    const { clock, membership } = setup();
    membership.seed([config('a')]);
    const a: UpstreamNode = membership.get('a')!;
    a.inFlight = 2;
    const late = membership.drain(a, 1_000);
    const early = membership.drain(a, 100);
    clock.advance(100);
    await expect(Promise.all([late, early])).resolves.toEqual([true, true]);
    expect(membership.has('a')).toBe(false);
    clock.advance(1_000); // the later deadline was cancelled: nothing fires, nothing is left
    expect(clock.pending).toBe(0);
  });

  it('close() stops drain deadlines; the drain still completes when the tries settle', async () => {
    const { clock, membership } = setup();
    membership.seed([config('a')]);
    const a = membership.get('a')!;
    a.inFlight = 1;
    const removed = membership.drain(a, 100);
    membership.close();
    clock.advance(1_000);
    expect(membership.has('a')).toBe(true);
    a.inFlight = 0;
    membership.settled(a);
    await expect(removed).resolves.toBe(true);
  });
});
