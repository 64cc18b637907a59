import { ManualClock } from '../clock/manual-clock.js';
import type { NodeConfig } from '../interfaces/node-config.interface.js';
import { LoadBalancer } from '../load-balancer.service.js';
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
