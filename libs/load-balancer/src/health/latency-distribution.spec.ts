import * as fc from 'fast-check';
import { DISTRIBUTION_SAMPLES, LatencyDistribution } from './latency-distribution.js';

/** Nearest rank of the last `DISTRIBUTION_SAMPLES` samples: the model the distribution must agree with. */
function nearestRank(samples: readonly number[], percentile: number): number | undefined {
  const kept = samples.slice(-DISTRIBUTION_SAMPLES).toSorted((a, b) => a - b);
  if (kept.length < 8) return undefined;
  return kept[Math.max(0, Math.min(kept.length - 1, Math.ceil((percentile / 100) * kept.length) - 1))];
}

describe('LatencyDistribution (hedge percentiles, balancer-wide)', () => {
  it('a first read of any percentile is the nearest rank of the last 512 samples, ties and wrap-around included', () => {
    fc.assert(
      fc.property(
        // Few distinct values (ties are common) and lengths on both sides of the 8-sample floor and of the ring size.
        fc.array(
          fc.integer({ min: 0, max: 12 }).map((v) => v * 25),
          { maxLength: 1_300 },
        ),
        fc.array(fc.double({ min: 1, max: 99.9, noNaN: true }), { minLength: 1, maxLength: 12 }),
        (samples, percentiles) => {
          const distribution = new LatencyDistribution();
          for (const ms of samples) distribution.add(ms);
          for (const p of percentiles) expect(distribution.percentile(p)).toBe(nearestRank(samples, p));
        },
      ),
    );
  });

  it('a cached percentile is reused until 64 new samples arrived, then recomputed', () => {
    const distribution = new LatencyDistribution();
    for (let i = 0; i < DISTRIBUTION_SAMPLES; i++) distribution.add(1);
    expect(distribution.percentile(90)).toBe(1);
    for (let i = 0; i < 63; i++) distribution.add(1_000);
    // The exact p90 is 1,000 now (449 ones, 63 slow ones), but the read is amortized: still the cached value.
    expect(distribution.percentile(90)).toBe(1);
    distribution.add(1_000);
    expect(distribution.percentile(90)).toBe(1_000);
  });

  it('a caller asking for ever new percentiles gets each one right (they are not all cached)', () => {
    const distribution = new LatencyDistribution();
    const samples = Array.from({ length: 600 }, (_, i) => (i * 7919) % 1_000);
    for (const ms of samples) distribution.add(ms);
    for (let k = 0; k < 200; k++) {
      const p = 1 + (k * 98.9) / 199;
      expect(distribution.percentile(p)).toBe(nearestRank(samples, p));
    }
  });

  it('caches at most 8 percentiles: a ninth is computed afresh on every read', () => {
    const distribution = new LatencyDistribution();
    for (let i = 0; i < DISTRIBUTION_SAMPLES; i++) distribution.add(1);
    const cachedOnes = [10, 20, 30, 40, 50, 60, 70, 80];
    for (const p of cachedOnes) expect(distribution.percentile(p)).toBe(1);
    expect(distribution.percentile(99)).toBe(1);
    // 10 slow samples: the exact p99 is 1,000 now; the 8 cached percentiles still read their cached value.
    for (let i = 0; i < 10; i++) distribution.add(1_000);
    expect(distribution.percentile(99)).toBe(1_000);
    expect(distribution.percentile(80)).toBe(1);
  });
});
