import { Logger } from '@nestjs/common';
import { NodeProcess } from '../../../../test/harness/index.js';
import { ManualClock } from '../clock/manual-clock.js';
import type { NodeConfig } from '../interfaces/node-config.interface.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { InvalidLoadBalancerOptionsError } from '../errors/invalid-load-balancer-options.error.js';
import { DnsDiscovery } from './dns-discovery.js';
import { NodeDiscovery } from './node-discovery.js';

class MutableDiscovery extends NodeDiscovery {
  override readonly refreshIntervalMs = 1_000;
  list: NodeConfig[] = [];
  failing = false;

  async resolve(): Promise<NodeConfig[]> {
    if (this.failing) throw new Error('registry down');
    return this.list;
  }
}

describe('discovery', () => {
  it('resolves a host name into one node per address', async () => {
    const nodes = await new DnsDiscovery({ hostname: 'localhost', port: 8080 }).resolve();
    expect(nodes.length).toBeGreaterThan(0);
    for (const node of nodes) {
      expect(node).toMatchObject({ port: 8080, weight: 1, id: `${node.host}:8080` });
    }
  });

  it('adds new nodes, drains vanished ones, keeps static ones and survives a failed refresh', async () => {
    const discovery = new MutableDiscovery();
    const clock = new ManualClock();
    const lb = new LoadBalancer({ nodes: [{ id: 'static', host: 's', port: 1 }], discovery, clock });
    discovery.list = [
      { id: 'd1', host: 'a', port: 1 },
      { id: 'd2', host: 'b', port: 1 },
    ];
    await lb.onApplicationBootstrap();
    expect(lb.nodes().map((n) => n.id)).toEqual(['static', 'd1', 'd2']);
    // Joining a serving cluster: slow start.
    expect(lb.nodes().map((n) => n.slowStartFactor)).toEqual([1, 0.1, 0.1]);

    discovery.list = [
      { id: 'd2', host: 'b', port: 1 },
      { id: 'd3', host: 'c', port: 1 },
    ];
    await lb.refreshDiscovery();
    await Promise.resolve();
    expect(lb.nodes().map((n) => n.id)).toEqual(['static', 'd2', 'd3']);

    discovery.failing = true;
    await lb.refreshDiscovery();
    expect(lb.nodes().map((n) => n.id)).toEqual(['static', 'd2', 'd3']);
    lb.close();
  });

  it('treats the first resolution of an empty balancer as the initial membership (no slow start)', async () => {
    const discovery = new MutableDiscovery();
    discovery.list = [
      { id: 'd1', host: 'a', port: 1 },
      { id: 'd2', host: 'b', port: 1 },
    ];
    const lb = new LoadBalancer({ discovery, clock: new ManualClock() });
    await lb.onApplicationBootstrap();
    expect(lb.nodes().map((n) => [n.id, n.slowStartFactor])).toEqual([
      ['d1', 1],
      ['d2', 1],
    ]);
    lb.close();
  });
});

/** Lets the process report rejections nobody handled (it does so after the microtask queue drains). */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('discovery with invalid entries (defect 22)', () => {
  let unhandled: unknown[];
  const onUnhandled = (reason: unknown) => unhandled.push(reason);
  beforeEach(() => {
    unhandled = [];
    process.on('unhandledRejection', onUnhandled);
  });
  afterEach(() => {
    process.off('unhandledRejection', onUnhandled);
    vi.restoreAllMocks();
  });

  it('defect 22: a scheduled refresh with one port-0 entry skips it with a warning naming it, keeps the good ones and rejects nothing', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const discovery = new MutableDiscovery();
    const clock = new ManualClock();
    discovery.list = [{ id: 'd1', host: 'a', port: 1 }];
    const lb = new LoadBalancer({ discovery, clock });
    await lb.onApplicationBootstrap();
    discovery.list = [
      { id: 'd1', host: 'a', port: 1 },
      { id: 'bad', host: 'b', port: 0 },
      { id: 'd3', host: 'c', port: 3 },
    ];
    clock.advance(discovery.refreshIntervalMs);
    await settle();
    await settle();
    expect(unhandled).toEqual([]);
    expect(lb.nodes().map((n) => n.id)).toEqual(['d1', 'd3']);
    const warnings = warn.mock.calls.map((call) => String(call[0]));
    expect(warnings.some((w) => w.includes('"bad"') && w.includes('port'))).toBe(true);
    // Discovery keeps running after the bad round.
    discovery.list = [{ id: 'd1', host: 'a', port: 1 }];
    clock.advance(discovery.refreshIntervalMs);
    await settle();
    await settle();
    expect(unhandled).toEqual([]);
    expect(lb.nodes().find((n) => n.id === 'd3')).toBeUndefined();
    lb.close();
  });

  it('defect 22: refreshDiscovery() resolves when the provider returns junk (not an array, null entries)', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const discovery = new MutableDiscovery();
    discovery.list = [{ id: 'd1', host: 'a', port: 1 }];
    const lb = new LoadBalancer({ discovery, clock: new ManualClock() });
    await lb.onApplicationBootstrap();
    discovery.list = null as unknown as NodeConfig[];
    await expect(lb.refreshDiscovery()).resolves.toBeUndefined();
    discovery.list = [null, 7, { id: 'd1', host: 'a', port: 1 }, { id: 'd2', host: 'b', port: 1.5 }] as never;
    await expect(lb.refreshDiscovery()).resolves.toBeUndefined();
    expect(lb.nodes().map((n) => n.id)).toEqual(['d1']);
    await settle();
    expect(unhandled).toEqual([]);
    lb.close();
  });

  it('defect 22: an invalid entry at bootstrap does not fail the boot; the valid entries become the nodes', async () => {
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const discovery = new MutableDiscovery();
    discovery.list = [
      { id: 'ok', host: 'a', port: 1 },
      { id: 'nan-weight', host: 'b', port: 2, weight: Number.NaN },
    ];
    const lb = new LoadBalancer({ discovery, clock: new ManualClock() });
    await expect(lb.onApplicationBootstrap()).resolves.toBeUndefined();
    expect(lb.nodes().map((n) => n.id)).toEqual(['ok']);
    lb.close();
  });
});

describe('DnsDiscovery options', () => {
  it.each([
    [{ hostname: '', port: 80 }, /`DnsDiscovery\(options\)\.hostname` must be a non-empty string; got ""/],
    [{ hostname: 'api', port: 0 }, /`DnsDiscovery\(options\)\.port` must be an integer from 1 to 65535; got 0/],
    [{ hostname: 'api', port: 80, weight: Number.NaN }, /`DnsDiscovery\(options\)\.weight`.*got NaN/],
    [
      { hostname: 'api', port: 80, refreshIntervalMs: 2 ** 31 },
      /`DnsDiscovery\(options\)\.refreshIntervalMs` must be an integer number of milliseconds from 1 to 2147483647 \(the largest timer Node runs\); got 2147483648/,
    ],
  ])('rejects %j naming the option', (options, message) => {
    expect(() => new DnsDiscovery(options)).toThrow(InvalidLoadBalancerOptionsError);
    expect(() => new DnsDiscovery(options)).toThrow(message);
  });
});

describe('a Nest app whose discovery turns invalid (defect 22, own process)', () => {
  it('defect 22: keeps running, logs the skipped entry and keeps the good node', async () => {
    const app = NodeProcess.start(
      'invalid-discovery',
      'libs/load-balancer/src/discovery/fixtures/invalid-discovery-app.ts',
    );
    try {
      const [alive] = await app.waitFor(/ALIVE after \d+ rounds; nodes: .*/);
      expect(alive).toMatch(/nodes: good$/);
      expect(app.log).toMatch(
        /`discovery\.resolve\(\)\[1\]\.port` must be an integer from 1 to 65535; got 0\. Node "bad"/,
      );
      expect(app.log).not.toMatch(/unhandled|UnhandledPromiseRejection/i);
      // It exits by itself once done; a crash would have ended it before ALIVE (waitFor rejects then).
      await vi.waitFor(() => expect(app.alive).toBe(false), { timeout: 15_000, interval: 50 });
      expect(await app.stop()).toBe(0);
    } finally {
      await app.kill();
    }
  });
});
