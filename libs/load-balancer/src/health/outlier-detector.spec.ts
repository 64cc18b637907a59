import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock/manual-clock.js';
import { BalancerEvents } from '../events/balancer-events.js';
import type { LoadBalancerEvents } from '../interfaces/load-balancer-events.interface.js';
import type { OutlierDetectionOptions } from '../interfaces/load-balancer-options.interface.js';
import { ADMIT_PROBE, ADMIT_SLOW_START, UpstreamNode } from '../node/upstream-node.js';
import { SlowStart } from '../selection/slow-start.js';
import { NodeHealthModel } from './node-health-model.js';
import { snapshotNode } from './node-snapshots.js';
import { OutlierDetector, resolveOutlierSettings } from './outlier-detector.js';

/** The state machine alone: real health model and slow start, a ManualClock, jitter 0 so durations are exact. */
function setup(options: OutlierDetectionOptions = {}, size = 4) {
  const clock = new ManualClock();
  const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', i + 1, 1));
  const slowStart = new SlowStart({ windowMs: 1_000, minFactor: 0.1 });
  const health = new NodeHealthModel(
    { decayMs: 10_000, initialLatencyMs: 30, errorPenalty: 5 },
    slowStart,
    () => nodes,
  );
  const events = new BalancerEvents(new Logger('test'));
  const seen: string[] = [];
  for (const event of ['ejected', 'probing', 'recovered'] as const) {
    events.on(event, (payload: LoadBalancerEvents[typeof event]) =>
      seen.push(`${event}:${payload.node.id}${'reason' in payload ? `:${payload.reason}:${payload.durationMs}` : ''}`),
    );
  }
  let changes = 0;
  const detector = new OutlierDetector(resolveOutlierSettings({ jitter: 0, baseEjectionMs: 1_000, ...options }), {
    clock,
    random: () => 0.5,
    health,
    slowStart,
    events,
    balancer: 'test',
    snapshot: (node, now) => snapshotNode(node, now, health, slowStart),
    members: () => nodes,
    changed: () => changes++,
  });
  const fail = (node: UpstreamNode) => {
    health.record(node, 10, true, clock.now());
    detector.outcome(node, true, clock.now());
  };
  const succeed = (node: UpstreamNode) => {
    health.record(node, 10, false, clock.now());
    detector.outcome(node, false, clock.now());
  };
  return { clock, nodes, detector, seen, fail, succeed, changes: () => changes };
}

describe('OutlierDetector state machine (issue 16 redesign)', () => {
  it('healthy → ejected after consecutiveFailures, → probing when the ejection ends, → healthy with slow start on a probe success', () => {
    const { clock, nodes, detector, seen, fail, succeed } = setup({ consecutiveFailures: 3 });
    const [n] = nodes;
    fail(n);
    fail(n);
    expect(n.state).toBe('healthy');
    fail(n);
    expect(n).toMatchObject({ state: 'ejected', ejections: 1, ejectedUntil: 1_000, consecutiveFailures: 0 });
    clock.advance(999);
    expect(n.state).toBe('ejected');
    clock.advance(1);
    expect(n).toMatchObject({ state: 'probing', admission: ADMIT_PROBE, probeInFlight: false });
    detector.admitProbe(n);
    expect(n.probeInFlight).toBe(true);
    succeed(n);
    expect(n).toMatchObject({ state: 'healthy', errorFactor: 1, decayedFailures: 0, slowStartFrom: 1_000 });
    expect(n.admission & ADMIT_SLOW_START).toBe(ADMIT_SLOW_START);
    expect(seen).toEqual(['ejected:n0:consecutive-failures:1000', 'probing:n0', 'recovered:n0']);
  });

  it('a failed probe ejects again for twice as long', () => {
    const { clock, nodes, detector, fail } = setup({ consecutiveFailures: 1 });
    const [n] = nodes;
    fail(n);
    clock.advance(1_000);
    detector.admitProbe(n);
    fail(n);
    expect(n).toMatchObject({ state: 'ejected', ejections: 2, ejectedUntil: 3_000 });
    clock.advance(1_999);
    expect(n.state).toBe('ejected');
    clock.advance(1);
    expect(n.state).toBe('probing');
  });

  it('half-open: one probe at a time; an aborted probe or the probe timeout frees the slot', () => {
    const { clock, nodes, detector, fail, changes } = setup({ consecutiveFailures: 1, probeTimeoutMs: 500 });
    const [n] = nodes;
    fail(n);
    clock.advance(1_000);
    const before = changes();
    detector.admitProbe(n);
    detector.admitProbe(n);
    expect(changes()).toBe(before + 1);
    detector.cancelProbe(n);
    expect(n.probeInFlight).toBe(false);
    detector.admitProbe(n);
    clock.advance(500);
    expect(n).toMatchObject({ state: 'probing', probeInFlight: false });
  });

  it('ejects on the decayed error rate once minRequests is reached', () => {
    const { nodes, fail, succeed } = setup({ consecutiveFailures: 100, minRequests: 10, errorRateThreshold: 0.5 });
    const [n] = nodes;
    for (let i = 0; i < 4; i++) {
      succeed(n);
      fail(n);
    }
    expect(n.state).toBe('healthy'); // 8 requests < minRequests
    succeed(n);
    fail(n);
    expect(n.state).toBe('ejected');
  });

  it('never ejects past maxEjectionPercent (at least one node may go)', () => {
    const { nodes, fail } = setup({ consecutiveFailures: 1, maxEjectionPercent: 50 });
    for (const n of nodes) fail(n);
    expect(nodes.map((n) => n.state)).toEqual(['ejected', 'ejected', 'healthy', 'healthy']);
  });

  it('active checks eject until they pass, and the ejection timer does not start a probe meanwhile', () => {
    const { clock, nodes, detector, fail, seen } = setup({ consecutiveFailures: 1 });
    const [n] = nodes;
    fail(n);
    detector.activeCheckFailed(n);
    clock.advance(10_000);
    expect(n).toMatchObject({ state: 'ejected', activeFailing: true });
    detector.activeCheckPassed(n);
    expect(n.state).toBe('healthy');
    expect(seen).toContain('ejected:n0:active-health-check:Infinity');
  });

  it('forget() drops the timers of a node leaving rotation, and close() every timer', () => {
    const { clock, nodes, detector, fail } = setup({ consecutiveFailures: 1 });
    fail(nodes[0]);
    fail(nodes[1]);
    detector.forget(nodes[0]);
    detector.close();
    clock.advance(5_000);
    expect(nodes.map((n) => n.state)).toEqual(['ejected', 'ejected', 'healthy', 'healthy']);
    expect(clock.pending).toBe(0);
  });
});
