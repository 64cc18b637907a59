import { backoffDelay } from './retry-backoff.js';

describe('backoffDelay', () => {
  it('doubles an exponential delay after each failure, without jitter', () => {
    const backoff = { type: 'exponential' as const, delayMs: 100, jitter: 0 };
    expect([1, 2, 3, 4].map((n) => backoffDelay(backoff, n))).toEqual([100, 200, 400, 800]);
  });

  it('keeps a fixed delay', () => {
    expect(backoffDelay({ type: 'fixed', delayMs: 250, jitter: 0 }, 5)).toBe(250);
  });

  it('draws a jittered delay within [max·(1 − jitter), max], never zero for a positive delay', () => {
    const backoff = { type: 'exponential' as const, delayMs: 1000, jitter: 0.5 };
    expect(backoffDelay(backoff, 3, () => 0)).toBe(2000);
    expect(backoffDelay(backoff, 3, () => 0.999_999)).toBe(3999);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(backoff, 1);
      expect(d).toBeGreaterThanOrEqual(500);
      expect(d).toBeLessThanOrEqual(1000);
    }
  });
});
