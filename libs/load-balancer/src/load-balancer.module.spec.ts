import { Injectable, Module } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { InjectLoadBalancedHttpClient } from './decorators/inject-load-balanced-http-client.decorator.js';
import { InjectLoadBalancer } from './decorators/inject-load-balancer.decorator.js';
import { StaticDiscovery } from './discovery/static-discovery.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { HealthChecker } from './health-checks/health-checker.js';
import { LoadBalancedHttpClient } from './http/load-balanced-http-client.js';
import { LoadBalancerModule } from './load-balancer.module.js';
import { LoadBalancer } from './load-balancer.service.js';
import type { UpstreamNode } from './node/upstream-node.js';
import { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

const nodes = [
  { id: 'a', host: '127.0.0.1', port: 7001 },
  { id: 'b', host: '127.0.0.1', port: 7002 },
];

@Injectable()
class Consumer {
  constructor(
    readonly byType: LoadBalancer,
    @InjectLoadBalancer() readonly byDefaultName: LoadBalancer,
    @InjectLoadBalancer('catalog') readonly catalog: LoadBalancer,
    @InjectLoadBalancedHttpClient('catalog') readonly catalogHttp: LoadBalancedHttpClient,
  ) {}
}

@Injectable()
class Preference {
  readonly nodeId = 'b';
}

@Module({ providers: [Preference], exports: [Preference] })
class PreferenceModule {}

/** A custom strategy with an injected dependency: always the preferred node when selectable. */
@Injectable()
class PreferredNodeStrategy extends LoadBalancingStrategy {
  constructor(private readonly preference: Preference) {
    super();
  }

  pick(): UpstreamNode | undefined {
    return this.nodes.find((n) => n.id === this.preference.nodeId) ?? this.nodes[0];
  }
}

describe('LoadBalancerModule', () => {
  it('lets a default balancer and named ones coexist, injected by type, name and decorator', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LoadBalancerModule.forRoot({ nodes, strategy: 'round-robin' }),
        LoadBalancerModule.register({ name: 'catalog', nodes: [{ id: 'c', host: '127.0.0.1', port: 7003 }] }),
        LoadBalancerModule.register({
          name: 'sticky',
          nodes,
          strategy: PreferredNodeStrategy,
          imports: [PreferenceModule],
        }),
      ],
      providers: [Consumer],
    }).compile();
    const app = await moduleRef.createNestApplication().init();
    try {
      const consumer = app.get(Consumer);
      expect(consumer.byType).toBe(consumer.byDefaultName);
      expect(consumer.byType.name).toBe('default');
      expect(consumer.catalog.name).toBe('catalog');
      expect(consumer.catalog.pick().id).toBe('c');
      expect(consumer.catalogHttp.balancer).toBe(consumer.catalog);
      expect(new Set([consumer.byType.pick().id, consumer.byType.pick().id])).toEqual(new Set(['a', 'b']));
      const sticky = app.get<LoadBalancer>('nest_scale:load_balancer:sticky');
      expect(Array.from({ length: 5 }, () => sticky.pick().id)).toEqual(['b', 'b', 'b', 'b', 'b']);
      expect(app.get(LoadBalancedHttpClient).balancer).toBe(consumer.byType);
    } finally {
      await app.close();
    }
  });

  it('configures the default balancer asynchronously', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        LoadBalancerModule.forRootAsync({
          imports: [PreferenceModule],
          inject: [Preference],
          useFactory: (preference: Preference) => ({ nodes: nodes.filter((n) => n.id === preference.nodeId) }),
        }),
        LoadBalancerModule.registerAsync({
          name: 'later',
          useFactory: async () => ({ nodes, strategy: 'least-connections' }),
        }),
      ],
    }).compile();
    try {
      expect(moduleRef.get(LoadBalancer).pick().id).toBe('b');
      expect(moduleRef.get<LoadBalancer>('nest_scale:load_balancer:later').nodes()).toHaveLength(2);
    } finally {
      await moduleRef.close();
    }
  });

  it('fails at boot on bad options, naming the node', async () => {
    const compiling = Test.createTestingModule({
      imports: [
        LoadBalancerModule.register({
          name: 'orders',
          nodes: [
            { id: 'o1', host: 'h', port: 80 },
            { id: 'o1', host: 'h', port: 81 },
          ],
        }),
      ],
    }).compile();
    await expect(compiling).rejects.toThrow(InvalidLoadBalancerOptionsError);
    await expect(
      Test.createTestingModule({
        imports: [LoadBalancerModule.forRoot({ nodes: [{ id: 'neg', host: 'h', port: 80, weight: -2 }] })],
      }).compile(),
    ).rejects.toThrow(/`nodes\[0\]\.weight` must be .*; got -2\. Fix node "neg"/);
  });

  it('starts discovery and active health checks at bootstrap and stops them on shutdown', async () => {
    const down = new Set(['d2']);
    let checks = 0;
    @Injectable()
    class FlakyChecker extends HealthChecker {
      async check(node: UpstreamNode): Promise<boolean> {
        checks++;
        return !down.has(node.id);
      }
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        LoadBalancerModule.register({
          name: 'discovered',
          discovery: new StaticDiscovery([
            { id: 'd1', host: '127.0.0.1', port: 7101 },
            { id: 'd2', host: '127.0.0.1', port: 7102 },
          ]),
          healthCheck: { intervalMs: 10, unhealthyThreshold: 2, healthyThreshold: 1, checker: FlakyChecker },
        }),
      ],
    }).compile();
    const app = await moduleRef.createNestApplication().init();
    const lb = app.get<LoadBalancer>('nest_scale:load_balancer:discovered');
    const state = (id: string) => lb.nodes().find((n) => n.id === id)?.state;
    try {
      expect(lb.nodes().map((n) => n.id)).toEqual(['d1', 'd2']);
      await vi.waitFor(() => expect(state('d2')).toBe('ejected'), { timeout: 2_000, interval: 10 });
      expect(state('d1')).toBe('healthy');
      expect(Array.from({ length: 6 }, () => lb.pick().id)).toEqual(Array(6).fill('d1'));
      down.clear();
      await vi.waitFor(() => expect(state('d2')).toBe('healthy'), { timeout: 2_000, interval: 10 });
    } finally {
      await app.close();
    }
    const checksAtClose = checks;
    await new Promise((r) => setTimeout(r, 60));
    expect(checks).toBe(checksAtClose);
  });
});
