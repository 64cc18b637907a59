import { ManualClock } from './clock/manual-clock.js';
import { LoadBalancer } from './load-balancer.service.js';
import { seededRandom } from './random/random-source.js';

/** Load reports through the facade (issue 16 item 5); the HTTP header path is in the HTTP limits spec. */
function setup() {
  const clock = new ManualClock();
  const lb = new LoadBalancer({
    nodes: Array.from({ length: 4 }, (_, i) => ({ id: `n${i}`, host: 'h', port: 9000 + i })),
    strategy: 'p2c-ewma',
    clock,
    random: seededRandom(8),
    decayMs: 1_000,
  });
  // n0 is a little faster than the others: p2c picks it whenever it is one of the two drawn (half the picks).
  const answer = () => {
    for (const node of lb.nodes()) lb.report(node.id, { latencyMs: node.id === 'n0' ? 99 : 100 });
  };
  answer();
  const share = (id: string, picks = 400) =>
    Array.from({ length: picks }, () => lb.pick().id).filter((picked) => picked === id).length / picks;
  return { clock, lb, share, answer };
}

describe('load reports (issue 16 item 5)', () => {
  it('p2c-ewma steers away from a node that reports high utilization, and back once the report decays', () => {
    const { clock, lb, share, answer } = setup();
    expect(share('n0')).toBeGreaterThan(0.4);
    expect(lb.reportLoad('n0', 0.9)).toBe(true);
    expect(lb.nodes().find((n) => n.id === 'n0')!.utilization).toBe(0.9);
    expect(share('n0')).toBe(0);
    clock.advance(10_000); // 10 τ: the report is worth e^-10 of itself
    answer();
    expect(share('n0')).toBeGreaterThan(0.4);
  });

  it('returns false for an unknown node and rejects a bad id or utilization naming the argument', () => {
    const { lb } = setup();
    expect(lb.reportLoad('gone', 0.5)).toBe(false);
    expect(() => lb.reportLoad('n0', 1.5)).toThrow(
      /`reportLoad\(utilization\)` must be a number from 0 to 1; got 1\.5/,
    );
    expect(() => lb.reportLoad('n0', Number.NaN)).toThrow(/`reportLoad\(utilization\)` must be a number from 0 to 1/);
    expect(() => lb.reportLoad(7 as never, 0.5)).toThrow(/`reportLoad\(nodeId\)` must be a non-empty string/);
  });
});
