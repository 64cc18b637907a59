import { ManualClock } from '../clock/manual-clock.js';
import { UpstreamNode } from '../node/upstream-node.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { seededRandom } from '../random/random-source.js';
import { LocalityRule } from './locality-rule.js';

const node = (id: string, zone?: string) => new UpstreamNode(id, 'h', 1, 1, undefined, zone);

describe('LocalityRule (issue 16 item 3)', () => {
  const a1 = node('a1', 'a');
  const a2 = node('a2', 'a');
  const a3 = node('a3', 'a');
  const b1 = node('b1', 'b');
  const none = node('x');
  const members = [a1, a2, a3, b1, none];

  it('keeps traffic in the local zone while enough of it is healthy', () => {
    const rule = new LocalityRule({ zone: 'a' });
    expect(rule.select(members, members)).toEqual([a1, a2, a3]);
    // 3 of 3, then 3 of 3 with b down: still local.
    expect(rule.select(members, [a1, a2, a3, none])).toEqual([a1, a2, a3]);
    expect(rule.spilledOver).toBe(false);
  });

  it('spills over to every healthy node when the local healthy share drops below minHealthyShare (0.7)', () => {
    const rule = new LocalityRule({ zone: 'a' });
    // 2 of 3 local healthy = 0.67 < 0.7.
    expect(rule.select(members, [a1, a2, b1, none])).toEqual([a1, a2, b1, none]);
    expect(rule.spilledOver).toBe(true);
    expect(new LocalityRule({ zone: 'a', minHealthyShare: 0.5 }).select(members, [a1, a2, b1])).toEqual([a1, a2]);
  });

  it('spills over below minHealthyNodes, and when the local zone has no node at all', () => {
    expect(new LocalityRule({ zone: 'a', minHealthyNodes: 4 }).select(members, members)).toEqual(members);
    expect(new LocalityRule({ zone: 'c' }).select(members, [b1, none])).toEqual([b1, none]);
  });
});

describe('locality through the balancer (issue 16 item 3)', () => {
  const nodes = [
    { id: 'a1', host: 'h', port: 1, zone: 'a' },
    { id: 'a2', host: 'h', port: 2, zone: 'a' },
    { id: 'b1', host: 'h', port: 3, zone: 'b' },
    { id: 'b2', host: 'h', port: 4, zone: 'b' },
  ];

  it('picks only local nodes, spills to the other zone while a local node is ejected, and returns when it recovers', () => {
    const clock = new ManualClock();
    const lb = new LoadBalancer({
      nodes,
      strategy: 'round-robin',
      clock,
      random: seededRandom(5),
      locality: { zone: 'a' },
      slowStart: false,
      outlierDetection: { consecutiveFailures: 1, baseEjectionMs: 1_000, jitter: 0 },
    });
    const picks = (n: number) => new Set(Array.from({ length: n }, () => lb.pick().id));
    expect(picks(20)).toEqual(new Set(['a1', 'a2']));
    lb.report('a1', { latencyMs: 5, error: true });
    expect(lb.nodes().find((n) => n.id === 'a1')).toMatchObject({ state: 'ejected', zone: 'a' });
    // 1 of 2 local nodes healthy (0.5 < 0.7): every healthy node serves.
    expect(picks(30)).toEqual(new Set(['a2', 'b1', 'b2']));
    clock.advance(1_000);
    lb.report('a1', { latencyMs: 5 }); // the half-open probe succeeds
    expect(picks(20)).toEqual(new Set(['a1', 'a2']));
  });

  it.each(['round-robin', 'p2c-ewma'] as const)(
    '%s: retries stay in the local zone while it is preferred, and go to a tried local node once both are tried',
    async (strategy) => {
      const lb = new LoadBalancer({
        nodes,
        strategy,
        clock: new ManualClock(),
        random: seededRandom(7),
        locality: { zone: 'a' },
        slowStart: false,
        outlierDetection: false,
      });
      for (let call = 0; call < 10; call++) {
        const tried: string[] = [];
        await expect(
          lb.execute(
            (picked) => {
              tried.push(picked.id);
              throw new Error('upstream failed');
            },
            { retries: 2 },
          ),
        ).rejects.toThrow('upstream failed');
        expect(tried).toHaveLength(3);
        expect(new Set(tried.slice(0, 2))).toEqual(new Set(['a1', 'a2']));
        expect(['a1', 'a2']).toContain(tried[2]);
      }
      lb.close();
    },
  );

  it('rejects a bad zone or locality option naming it', () => {
    expect(() => new LoadBalancer({ nodes: [{ host: 'h', port: 1, zone: '' }] })).toThrow(
      /`nodes\[0\]\.zone` must be a non-empty string; got ""/,
    );
    expect(() => new LoadBalancer({ nodes, locality: { zone: 'a', minHealthyShare: 2 } })).toThrow(
      /`locality\.minHealthyShare` must be a number from 0 to 1; got 2/,
    );
    expect(() => new LoadBalancer({ nodes, locality: {} as never })).toThrow(
      /`locality\.zone` must be a non-empty string/,
    );
  });
});
