import { UpstreamNode } from '../node/upstream-node.js';
import { SlowStart } from '../selection/slow-start.js';
import { NodeHealthModel } from './node-health-model.js';

/** The health model alone, with explicit timestamps (it reads no clock). */
function setup(size = 3) {
  const nodes = Array.from({ length: size }, (_, i) => new UpstreamNode(`n${i}`, 'h', i + 1, 1));
  const model = new NodeHealthModel(
    { decayMs: 1_000, initialLatencyMs: 30, errorPenalty: 5 },
    new SlowStart(false),
    () => nodes,
  );
  for (const node of nodes) model.seed(node, 0);
  return { nodes, model };
}

describe('NodeHealthModel (issue 16 redesign)', () => {
  it('seeds new nodes with the initial latency, later ones with the median of answering nodes', () => {
    const { nodes, model } = setup();
    expect(nodes.map((n) => n.cost)).toEqual([30, 30, 30]);
    model.record(nodes[0], 100, false, 0);
    model.record(nodes[1], 200, false, 0);
    model.record(nodes[2], 300, false, 0);
    const late = new UpstreamNode('late', 'h', 9, 1);
    model.seed(late, 0);
    expect(late.cost).toBe(200);
  });

  it('peak EWMA: a slower sample replaces the estimate at once, faster ones blend in with elapsed time', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 500, false, 0);
    expect(model.latencyMs(n, 0)).toBe(500);
    expect(model.latencyMs(n, 1_000)).toBeCloseTo(500 / Math.E, 6);
    model.record(n, 10, false, 1_000);
    const w = Math.exp(-1);
    expect(n.cost).toBeCloseTo(500 * w + 10 * (1 - w), 6);
  });

  it('a failure never makes a node look faster, and each failure in a row doubles the error factor up to 16×', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 400, false, 0);
    model.record(n, 1, true, 0);
    expect(n.cost).toBe(400);
    for (let i = 0; i < 6; i++) model.record(n, 1, true, 0);
    expect(n.consecutiveFailures).toBe(7);
    expect(n.errorFactor).toBeCloseTo((1 + 5 * n.errorRate) * 16, 9);
    model.record(n, 1, false, 0);
    expect(n.errorFactor).toBeCloseTo(1 + 5 * n.errorRate, 9);
  });

  it('the error rate is the ratio of decayed counts; forgive() clears it and the streak', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 10, true, 0);
    model.record(n, 10, false, 0);
    expect(n.errorRate).toBeCloseTo(0.5, 9);
    model.record(n, 10, false, 5_000); // the old outcomes weigh e^-5 now
    expect(n.errorRate).toBeLessThan(0.01);
    model.forgive(n, 5_000);
    expect(n).toMatchObject({ errorRate: 0, consecutiveFailures: 0, errorFactor: 1 });
  });

  it('health score is (1 − error rate) × min(1, median / own latency), 0 when ejected', () => {
    const { nodes, model } = setup();
    model.record(nodes[0], 100, false, 0);
    model.record(nodes[1], 100, false, 0);
    model.record(nodes[2], 400, false, 0);
    expect(model.score(nodes[0], 0)).toBe(1);
    expect(model.score(nodes[2], 0)).toBeCloseTo(0.25, 9);
    nodes[2].state = 'ejected';
    expect(model.score(nodes[2], 0)).toBe(0);
  });

  it('only successes feed the balancer-wide latency distribution, each of any node once', () => {
    const { nodes, model } = setup();
    for (let i = 1; i <= 7; i++) model.record(nodes[i % 3], i * 10, false, 0);
    model.record(nodes[0], 10_000, true, 0); // a failure is no latency sample
    model.recordAtLeast(nodes[1], 20_000, 0); // nor is a lower bound
    expect(model.latencies.percentile(50)).toBeUndefined();
    model.record(nodes[2], 80, false, 0);
    expect(model.latencies.percentile(50)).toBe(40);
    expect(model.latencies.percentile(99.9)).toBe(80);
  });

  it('recordAtLeast (a try that lost to a hedge) only raises the estimate, and counts no request', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 2_000, false, 0);
    model.recordAtLeast(n, 400, 0);
    expect(n.cost).toBe(2_000);
    model.recordAtLeast(n, 2_500, 0);
    expect(n).toMatchObject({ cost: 2_500, requests: 1, failures: 0, consecutiveFailures: 0 });
  });

  it('each loss to a hedge in a row doubles the p2c factor like a failure (16× at most), until a success', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 100, false, 0);
    const factors = [1, 2, 3, 4, 5, 6].map(() => {
      model.recordAtLeast(n, 300, 0);
      return n.errorFactor;
    });
    expect(factors).toEqual([2, 4, 8, 16, 16, 16]);
    expect(n.consecutiveLosses).toBe(6);
    // Losses and failures share the one streak (a failure after 2 losses weighs like a third failure in a row).
    model.record(n, 100, false, 0);
    model.recordAtLeast(n, 300, 0);
    model.recordAtLeast(n, 300, 0);
    model.record(n, 100, true, 0);
    expect(n.errorFactor).toBeCloseTo((1 + 5 * n.errorRate) * 8, 9);
    // A failure does not end the loss streak; a success does, and so does forgive() after an ejection.
    model.record(n, 100, false, 0);
    expect(n).toMatchObject({ consecutiveLosses: 0, consecutiveFailures: 0 });
    model.recordAtLeast(n, 300, 0);
    model.forgive(n, 0);
    expect(n).toMatchObject({ consecutiveLosses: 0, errorFactor: 1 });
  });

  it('item 5: a load report weighs the p2c factor by 1 / (1 − utilization), capped at 20×, and decays with τ', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 10, true, 0); // error factor (1 + 5 × 1) × 2 = 12
    expect(n.errorFactor).toBeCloseTo(12, 9);
    model.reportUtilization(n, 0.5, 0);
    expect(n.errorFactor).toBeCloseTo(24, 9);
    model.reportUtilization(n, 1, 0);
    expect(n.errorFactor).toBeCloseTo(12 * 20, 6);
    expect(model.utilization(n, 1_000)).toBeCloseTo(Math.exp(-1), 9);
    model.record(n, 10, false, 3_000); // the report has decayed to e^-3 ≈ 0.05
    expect(n.errorFactor).toBeCloseTo((1 + 5 * n.errorRate) / (1 - Math.exp(-3)), 6);
  });
});
