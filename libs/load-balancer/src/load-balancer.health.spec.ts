import { Logger } from '@nestjs/common';
import { ManualClock } from './clock/manual-clock.js';
import { NoAvailableNodeError } from './errors/no-available-node.error.js';
import type { LoadBalancerEvents } from './interfaces/load-balancer-events.interface.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import { seededRandom } from './random/random-source.js';
import { RoundRobinStrategy } from './strategies/round-robin.strategy.js';

function setup(options: Partial<LoadBalancerOptions> = {}, size = 4) {
  const clock = new ManualClock();
  const lb = new LoadBalancer({
    nodes: Array.from({ length: size }, (_, i) => ({ id: `n${i}`, host: '127.0.0.1', port: 8000 + i })),
    strategy: 'round-robin',
    clock,
    random: seededRandom(42),
    ...options,
  });
  const events: Array<{ event: keyof LoadBalancerEvents; payload: unknown }> = [];
  for (const event of ['ejected', 'probing', 'recovered', 'panic'] as const) {
    lb.on(event, (payload) => events.push({ event, payload }));
  }
  const state = (id: string) => lb.nodes().find((n) => n.id === id)!;
  const fail = (id: string, times = 1) => {
    for (let i = 0; i < times; i++) lb.report(id, { latencyMs: 10, error: new Error('boom') });
  };
  return { clock, lb, events, state, fail };
}

describe('outlier ejection', () => {
  it('ejects after consecutive failures and takes the node out of rotation', () => {
    const { lb, events, state, fail } = setup();
    fail('n1', 4);
    expect(state('n1').state).toBe('healthy');
    fail('n1');
    expect(state('n1').state).toBe('ejected');
    expect(events).toMatchObject([
      { event: 'ejected', payload: { reason: 'consecutive-failures', node: { id: 'n1' } } },
    ]);
    expect(new Set(Array.from({ length: 30 }, () => lb.pick().id))).toEqual(new Set(['n0', 'n2', 'n3']));
  });

  it('a listener that throws is logged, and the ejection, the probe and the recovery still happen', () => {
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      const { lb, clock, state, fail } = setup({ slowStart: false });
      for (const event of ['ejected', 'probing', 'recovered'] as const) {
        lb.on(event, () => {
          throw new Error(`listener bug on ${event}`);
        });
      }
      expect(() => fail('n1', 5)).not.toThrow();
      expect(state('n1').state).toBe('ejected');
      clock.advance(6_000);
      expect(state('n1').state).toBe('probing');
      expect(Array.from({ length: 8 }, () => lb.pick().id)).toContain('n1'); // takes the half-open slot
      expect(lb.report('n1', { latencyMs: 10, error: false })).toBe(true);
      expect(state('n1').state).toBe('healthy');
      const messages = logged.mock.calls.map((call) => String(call[0]));
      for (const event of ['ejected', 'probing', 'recovered']) {
        expect(messages).toContainEqual(
          expect.stringContaining(`A "${event}" listener threw: Error: listener bug on ${event}`),
        );
      }
    } finally {
      logged.mockRestore();
    }
  });

  it('resets the consecutive count on success', () => {
    const { lb, state, fail } = setup({ outlierDetection: { errorRateThreshold: 1 } });
    for (let i = 0; i < 4; i++) {
      fail('n1', 4);
      lb.report('n1', { latencyMs: 10 });
    }
    expect(state('n1').state).toBe('healthy');
  });

  it('ejects on a high decayed error rate once there is enough volume', () => {
    const { lb, state, events } = setup({
      outlierDetection: { consecutiveFailures: 100, errorRateThreshold: 0.5, minRequests: 10 },
    });
    for (let i = 0; i < 12; i++) lb.report('n2', { latencyMs: 10, error: i % 3 !== 0 });
    expect(state('n2').state).toBe('ejected');
    expect(events[0]).toMatchObject({ event: 'ejected', payload: { reason: 'error-rate' } });
  });

  it('backs off exponentially with jitter, probes one request at a time, then slow-starts', async () => {
    const { clock, lb, events, state, fail } = setup({ slowStart: { windowMs: 10_000, minFactor: 0.1 } });
    fail('n1', 5);
    const first = (events[0].payload as LoadBalancerEvents['ejected']).durationMs;
    expect(first).toBeGreaterThanOrEqual(5_000);
    expect(first).toBeLessThanOrEqual(6_000);
    clock.advance(first - 1);
    expect(state('n1').state).toBe('ejected');
    clock.advance(1);
    expect(state('n1').state).toBe('probing');

    // Half-open: the first pick of n1 is the probe; while it runs n1 is not picked again.
    let failProbe!: (error: Error) => void;
    let probe: Promise<string> | undefined;
    for (let i = 0; i < 4 && probe === undefined; i++) {
      const call = lb.execute((node) =>
        node.id === 'n1' ? new Promise<string>((_, reject) => (failProbe = reject)) : 'other',
      );
      if (state('n1').inFlight === 1) probe = call;
      else await call;
    }
    expect(probe).toBeDefined();
    expect(Array.from({ length: 40 }, () => lb.pick().id)).not.toContain('n1');
    expect(events.map((e) => e.event)).toEqual(['ejected', 'probing']);
    // The probe fails: ejected again for twice as long.
    failProbe(new Error('still down'));
    await expect(probe).rejects.toThrow('still down');
    expect(state('n1').state).toBe('ejected');
    const second = (events[2].payload as LoadBalancerEvents['ejected']).durationMs;
    expect(events[2].payload).toMatchObject({ reason: 'probe-failed' });
    expect(second).toBeGreaterThanOrEqual(10_000);
    expect(second).toBeLessThanOrEqual(12_000);
    expect(state('n1').ejections).toBe(2);

    clock.advance(second);
    expect(state('n1').state).toBe('probing');
    lb.report('n1', { latencyMs: 10 });
    expect(state('n1').state).toBe('healthy');
    expect(events.at(-1)!.event).toBe('recovered');

    // Slow start: a recovered node gets ~10 % of its share at first, then ramps up.
    const share = (picks: number) =>
      Array.from({ length: picks }, () => lb.pick().id).filter((id) => id === 'n1').length / picks;
    expect(state('n1').slowStartFactor).toBeCloseTo(0.1);
    expect(share(4000)).toBeLessThan(0.1);
    clock.advance(10_000);
    expect(state('n1').slowStartFactor).toBe(1);
    expect(share(4000)).toBeCloseTo(0.25, 2);
  });

  it('frees the probe slot when a probe never reports back', () => {
    const { clock, lb, state, fail } = setup({ outlierDetection: { probeTimeoutMs: 1_000, jitter: 0 } });
    fail('n0', 5);
    clock.advance(5_000);
    while (lb.pick().id !== 'n0') {
      // round-robin reaches the probing node within one cycle
    }
    expect(Array.from({ length: 8 }, () => lb.pick().id)).not.toContain('n0');
    clock.advance(1_000);
    expect(Array.from({ length: 8 }, () => lb.pick().id)).toContain('n0');
    expect(state('n0').state).toBe('probing');
  });

  it('never ejects more than maxEjectionPercent of members', () => {
    const { state, fail } = setup({ outlierDetection: { maxEjectionPercent: 50 } }, 4);
    for (const id of ['n0', 'n1', 'n2', 'n3']) fail(id, 5);
    expect(['n0', 'n1', 'n2', 'n3'].map((id) => state(id).state)).toEqual(['ejected', 'ejected', 'healthy', 'healthy']);
  });
});

describe('panic mode', () => {
  it('balances across every node when too few are healthy, and says so', () => {
    const { lb, events, fail } = setup({ outlierDetection: { maxEjectionPercent: 100 }, panicThreshold: 0.5 }, 4);
    fail('n0', 5);
    fail('n1', 5);
    expect(lb.inPanic).toBe(false);
    fail('n2', 5);
    expect(lb.inPanic).toBe(true);
    expect(events.find((e) => e.event === 'panic')).toMatchObject({
      event: 'panic',
      payload: { active: true, healthy: 1, total: 4 },
    });
    expect(new Set(Array.from({ length: 40 }, () => lb.pick().id))).toEqual(new Set(['n0', 'n1', 'n2', 'n3']));
  });

  it('fails with NoAvailableNodeError when panic is off and nothing is healthy', async () => {
    const { lb, fail } = setup({ outlierDetection: { maxEjectionPercent: 100 }, panicThreshold: 0 }, 2);
    fail('n0', 5);
    fail('n1', 5);
    expect(() => lb.pick()).toThrow(NoAvailableNodeError);
    const error = await lb.execute(() => 'never').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NoAvailableNodeError);
    expect((error as Error).name).toBe('NoAvailableNodeError');
  });
});

describe('health model', () => {
  it('decays latency with time (half-life = decayMs × ln 2) and jumps to peaks at once', () => {
    const { clock, lb, state } = setup({ decayMs: 10_000 });
    lb.report('n0', { latencyMs: 100 });
    lb.report('n0', { latencyMs: 900 });
    expect(state('n0').latencyMs).toBe(900);
    clock.advance(10_000 * Math.LN2);
    expect(state('n0').latencyMs).toBeCloseTo(450, 6);
  });

  it('scores health from errors and latency relative to the cluster median', () => {
    const { lb, state } = setup({ outlierDetection: false });
    for (const id of ['n0', 'n1', 'n2']) lb.report(id, { latencyMs: 100 });
    lb.report('n3', { latencyMs: 400 });
    expect(state('n0').healthScore).toBe(1);
    expect(state('n3').healthScore).toBeCloseTo(0.25, 5);
    lb.report('n0', { latencyMs: 100, error: true });
    expect(state('n0').errorRate).toBeCloseTo(0.5, 5);
    expect(state('n0').healthScore).toBeCloseTo(0.5, 5);
  });

  it('keeps node memory bounded whatever the request count', () => {
    const { lb } = setup({ outlierDetection: false });
    const node = lb.pick();
    const keys = Object.keys(node).length;
    for (let i = 0; i < 50_000; i++) lb.report('n0', { latencyMs: i % 100, error: i % 10 === 0 });
    expect(Object.keys(node).length).toBe(keys);
    for (const value of Object.values(node)) expect(Array.isArray(value)).toBe(false);
  });
});

describe('scheduled health checks (defect 22)', () => {
  it('defect 22: a health-check round that throws is logged, produces no unhandled rejection, and the next round still runs', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    try {
      /** A user strategy with a bug: it throws when the selectable set changes. */
      class BrokenOnUpdate extends RoundRobinStrategy {
        broken = false;
        protected override onUpdate(): void {
          if (this.broken) throw new Error('strategy bug');
          super.onUpdate();
        }
      }
      const strategy = new BrokenOnUpdate();
      let rounds = 0;
      const checker = {
        check: async (node: { id: string }) => {
          if (node.id === 'n0') rounds++;
          return node.id !== 'n1';
        },
      };
      const clock = new ManualClock();
      const lb = new LoadBalancer(
        {
          nodes: [0, 1, 2].map((i) => ({ id: `n${i}`, host: 'h', port: 1 + i })),
          clock,
          healthCheck: { intervalMs: 1_000, unhealthyThreshold: 1, checker },
        },
        strategy,
      );
      strategy.broken = true;
      await lb.onApplicationBootstrap();
      clock.advance(0);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
      expect(logged.mock.calls.some((call) => String(call[0]).includes('strategy bug'))).toBe(true);
      clock.advance(1_000);
      for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
      expect(rounds).toBe(2);
      expect(unhandled).toEqual([]);
      lb.close();
    } finally {
      process.off('unhandledRejection', onUnhandled);
      logged.mockRestore();
    }
  });
});
