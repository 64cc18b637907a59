import { UpstreamNode } from '../node/upstream-node.js';
import { seededRandom } from '../random/random-source.js';
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

  it('latency percentiles come from the last 64 successes, and are undefined under 8 samples', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    for (let i = 1; i <= 7; i++) model.record(n, i, false, 0);
    expect(model.latencyPercentile(n, 50)).toBeUndefined();
    model.record(n, 8, false, 0);
    model.record(n, 10_000, true, 0); // failures are not latency samples
    expect(model.latencyPercentile(n, 50)).toBe(4);
    for (let i = 1; i <= 100; i++) model.record(n, 1_000 + i, false, 0);
    // The ring holds 1037..1100 now.
    expect(model.latencyPercentile(n, 1)).toBe(1_037);
    expect(model.latencyPercentile(n, 99.9)).toBe(1_100);
  });

  it('a latency percentile is the nearest rank of the sorted samples, for any ring content, ties included', () => {
    const random = seededRandom(16);
    for (let round = 0; round < 300; round++) {
      const { nodes, model } = setup(1);
      const [n] = nodes;
      // 8 to 200 samples (the ring wraps past 64), drawn from few distinct values so ties are common.
      const samples = Array.from({ length: 8 + Math.floor(random() * 193) }, () => Math.floor(random() * 12) * 25);
      for (const ms of samples) model.record(n, ms, false, 0);
      const kept = samples.slice(-64).toSorted((a, b) => a - b);
      for (const p of [1, 10, 50, 90, 95, 99, 99.9, 100 * random()]) {
        const rank = Math.max(0, Math.min(kept.length - 1, Math.ceil((p / 100) * kept.length) - 1));
        expect(model.latencyPercentile(n, p)).toBe(kept[rank]);
      }
      // Asking does not disturb the samples themselves.
      expect(model.latencyPercentile(n, 50)).toBe(kept[Math.ceil(kept.length / 2) - 1]);
    }
  });

  it('recordAtLeast (a try that lost to a hedge) only raises the estimate, and counts no request or sample', () => {
    const { nodes, model } = setup();
    const [n] = nodes;
    model.record(n, 2_000, false, 0);
    model.recordAtLeast(n, 400, 0);
    expect(n.cost).toBe(2_000);
    model.recordAtLeast(n, 2_500, 0);
    expect(n).toMatchObject({ cost: 2_500, requests: 1, latencySampleCount: 1 });
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
