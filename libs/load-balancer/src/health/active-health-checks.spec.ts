import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock/manual-clock.js';
import { BalancerEvents } from '../events/balancer-events.js';
import { UpstreamNode } from '../node/upstream-node.js';
import { SlowStart } from '../selection/slow-start.js';
import { ActiveHealthChecks } from './active-health-checks.js';
import { NodeHealthModel } from './node-health-model.js';
import { snapshotNode } from './node-snapshots.js';
import { OutlierDetector, resolveOutlierSettings } from './outlier-detector.js';

describe('ActiveHealthChecks (issue 16 redesign)', () => {
  it('ejects after unhealthyThreshold failed rounds, counts a hung check as failed at its timeout, recovers after healthyThreshold', async () => {
    const clock = new ManualClock();
    const nodes = [new UpstreamNode('a', 'h', 1, 1), new UpstreamNode('b', 'h', 2, 1)];
    const slowStart = new SlowStart(false);
    const health = new NodeHealthModel(
      { decayMs: 1_000, initialLatencyMs: 30, errorPenalty: 5 },
      slowStart,
      () => nodes,
    );
    const outlier = new OutlierDetector(resolveOutlierSettings({}), {
      clock,
      random: () => 0,
      health,
      slowStart,
      events: new BalancerEvents(new Logger('test')),
      balancer: 'test',
      snapshot: (node, now) => snapshotNode(node, now, health, slowStart),
      members: () => nodes,
      changed: () => undefined,
    });
    let answer: 'up' | 'down' | 'hang' = 'down';
    const checks = new ActiveHealthChecks(
      { intervalMs: 1_000, timeoutMs: 50, healthyThreshold: 2, unhealthyThreshold: 2 },
      {
        check: (node) =>
          node.id === 'b'
            ? Promise.resolve(true)
            : answer === 'hang'
              ? new Promise<boolean>(() => undefined)
              : Promise.resolve(answer === 'up'),
      },
      clock,
      outlier,
      { active: nodes, isMember: () => true },
    );
    await checks.runRound();
    expect(nodes[0]).toMatchObject({ state: 'healthy', activeStreak: -1 });
    answer = 'hang';
    const round = checks.runRound();
    clock.advance(50);
    await round;
    expect(nodes[0]).toMatchObject({ state: 'ejected', activeFailing: true, activeStreak: -2 });
    expect(nodes[1]).toMatchObject({ state: 'healthy', activeStreak: 2 });
    answer = 'up';
    await checks.runRound();
    expect(nodes[0].state).toBe('ejected');
    await checks.runRound();
    expect(nodes[0]).toMatchObject({ state: 'healthy', activeFailing: false });
  });
});
