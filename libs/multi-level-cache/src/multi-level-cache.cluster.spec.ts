import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient, createCluster } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisCluster, uniquePrefix } from '../../../test/harness/index.js';
import { CacheEvict } from './decorators/cache-evict.decorator.js';
import { Cached } from './decorators/cached.decorator.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { L2Options, MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { resolveOptions } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

@Injectable()
class Catalog {
  loads = 0;
  price = 10;

  @Cached({ tags: (sku: string) => [`sku:${sku}`] })
  async item(sku: string): Promise<{ sku: string; price: number }> {
    this.loads++;
    await sleep(100);
    return { sku, price: this.price };
  }

  @CacheEvict({ tags: (sku: string) => [`sku:${sku}`] })
  async reprice(sku: string, price: number): Promise<void> {
    void sku;
    this.price = price;
  }
}

@Module({ providers: [Catalog] })
class CatalogModule {}

let cluster: RedisCluster;
const open: TestingModule[] = [];

beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 30_000);
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});
afterAll(async () => {
  await cluster?.stop();
});

async function instance(options: MultiLevelCacheModuleOptions, l2: Partial<L2Options> = {}): Promise<TestingModule> {
  const mod = await Test.createTestingModule({
    imports: [
      MultiLevelCacheModule.forRoot({ ...options, l2: { cluster: cluster.seeds, ...l2 }, isGlobal: true }),
      CatalogModule,
    ],
  }).compile();
  open.push(mod);
  await mod.init();
  return mod;
}

async function within(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 5): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** The cluster node (index in `cluster.nodes`) that serves a Redis key. */
async function nodeOf(redisKey: string): Promise<number> {
  const probe = createCluster({ rootNodes: cluster.urls.map((url) => ({ url })) });
  await probe.connect();
  try {
    const port = probe.slots[await probe.clusterKeySlot(redisKey)].master.port;
    return cluster.nodes.findIndex((n) => n.port === port);
  } finally {
    probe.destroy();
  }
}

/** The option an `l2` value is refused for, or 'accepted'. */
function rejectedOption(l2: unknown): string {
  try {
    resolveOptions({ l2 } as MultiLevelCacheModuleOptions);
  } catch (error) {
    return (error as InvalidCacheOptionsError).option;
  }
  return 'accepted';
}

describe('l2.cluster options', () => {
  it('accepts { host, port } seeds and URLs, and needs exactly one of url and cluster', () => {
    expect(
      resolveOptions({ l2: { cluster: [{ host: '10.0.0.1', port: 7000 }, 'redis://10.0.0.2:7001'] } }).l2?.cluster,
    ).toEqual(['redis://10.0.0.1:7000', 'redis://10.0.0.2:7001']);
    expect(rejectedOption({ url: 'redis://a:1', cluster: ['redis://b:2'] })).toBe('l2');
    expect(rejectedOption({ timeoutMs: 10 })).toBe('l2');
    expect(rejectedOption({ cluster: [] })).toBe('l2.cluster');
    expect(rejectedOption({ cluster: ['http://a:1'] })).toBe('l2.cluster[0]');
    expect(rejectedOption({ cluster: [{ host: 'a', port: 0 }] })).toBe('l2.cluster[0].port');
  });
});

describe('with no cluster node reachable', () => {
  it('boots within the connect budget, serves from the loader, and closes cleanly', async () => {
    const t0 = performance.now();
    const mod = await Test.createTestingModule({
      imports: [
        MultiLevelCacheModule.forRoot({
          namespace: uniquePrefix('down'),
          l2: { cluster: ['redis://127.0.0.1:1'], connectTimeoutMs: 300 },
        }),
      ],
    }).compile();
    open.push(mod);
    await mod.init();
    expect(performance.now() - t0).toBeLessThan(2_000);
    const cache = mod.get(MultiLevelCache);
    expect(await cache.wrap('k', () => 'loaded')).toBe('loaded');
    expect(cache.stats().bus.connected).toBe(false);
  });
});

describe('on a 3-master Redis Cluster', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('clu');
  });

  it('spreads entries over the masters and reads faithful values back from L2 with their remaining TTL', async () => {
    const a = (await instance({ namespace })).get(MultiLevelCache);
    const b = (await instance({ namespace })).get(MultiLevelCache);
    const value = {
      at: new Date(1_700_000_000_000),
      n: 2n ** 70n,
      m: new Map([['x', new Set([1, 2])]]),
      b: Buffer.from('hi'),
      u: undefined,
    };
    const written = Date.now();
    await a.set('typed', value, { ttl: 10_000 });
    await sleep(300);
    expect(await b.get('typed')).toEqual(value);
    expect(b.stats().hits.l2).toBe(1);
    const filled = b.peek('typed');
    expect(filled?.value).toEqual(value);
    // L1 keeps the remaining freshness on the monotonic clock: what is left of the 10 s, not a fresh 10 s.
    expect((filled?.freshUntil ?? Infinity) - performance.now()).toBeLessThanOrEqual(
      written + 10_000 + 50 - Date.now(),
    );

    await Promise.all(Array.from({ length: 30 }, (_, i) => a.set(`spread:${i}`, i)));
    const sizes = await Promise.all(
      cluster.urls.map(async (url) => {
        const node = await createClient({ url }).connect();
        try {
          return (await node.keys(`${namespace}::spread:*`)).length;
        } finally {
          node.destroy();
        }
      }),
    );
    expect(sizes.reduce((s, n) => s + n, 0)).toBe(30);
    expect(sizes.every((n) => n > 0)).toBe(true);
  });

  it('a write or a multi-slot delete on A reaches B’s L1', async () => {
    const a = (await instance({ namespace })).get(MultiLevelCache);
    const b = (await instance({ namespace })).get(MultiLevelCache);
    const keys = Array.from({ length: 6 }, (_, i) => `k${i}`);
    for (const k of keys) await a.set(k, 'v1');
    await within(() => b.stats().bus.received >= keys.length, 2_000);
    for (const k of keys) expect(await b.get(k)).toBe('v1');
    for (const k of keys) expect(b.peek(k)?.value).toBe('v1');

    await a.set('k0', 'v2');
    await within(async () => (await b.get('k0')) === 'v2', 1_000);
    await a.del(keys);
    await within(async () => {
      for (const k of keys) if ((await b.get(k)) !== undefined) return false;
      return true;
    }, 1_000);
    expect(b.stats().l2Errors).toBe(0);
  });

  it('clear() on A removes the namespace’s entries from every master and from B’s L1', async () => {
    const a = (await instance({ namespace })).get(MultiLevelCache);
    const b = (await instance({ namespace })).get(MultiLevelCache);
    const keys = Array.from({ length: 40 }, (_, i) => `c${i}`);
    for (const k of keys) await a.set(k, k);
    for (const k of keys) expect(await b.get(k)).toBe(k);
    await expect(a.clear()).resolves.toBe(true);
    await within(() => b.stats().l1Entries === 0, 2_000);
    const left = await Promise.all(
      cluster.urls.map(async (url) => {
        const node = await createClient({ url }).connect();
        try {
          return (await node.keys(`${namespace}::*`)).length;
        } finally {
          node.destroy();
        }
      }),
    );
    expect(left).toStrictEqual(cluster.urls.map(() => 0));
    for (const k of keys) expect(await b.get(k)).toBeUndefined();
    expect(a.stats().l2Errors + b.stats().l2Errors).toBe(0);
  });

  it('a tag invalidation on B clears A’s L1 and the L2 entry', async () => {
    const [ma, mb] = [await instance({ namespace }), await instance({ namespace })];
    const [pa, pb] = [ma.get(Catalog), mb.get(Catalog)];
    expect(await pa.item('x')).toEqual({ sku: 'x', price: 10 });
    expect(await pb.item('x')).toEqual({ sku: 'x', price: 10 });
    expect(pa.loads + pb.loads).toBe(1);
    pa.price = 20;
    await pb.reprice('x', 20);
    await within(() => ma.get(MultiLevelCache).stats().l1Entries === 0, 1_000);
    // The L2 entry carries the old tag version: A loads again instead of reading it.
    expect(await pa.item('x')).toEqual({ sku: 'x', price: 20 });
    expect(pa.loads + pb.loads).toBe(2);
  });

  it('two instances × 50 concurrent misses of one key run the loader once (lease)', async () => {
    const [ma, mb] = [await instance({ namespace }), await instance({ namespace })];
    const [pa, pb] = [ma.get(Catalog), mb.get(Catalog)];
    const results = await Promise.all([
      ...Array.from({ length: 50 }, () => pa.item('hot')),
      ...Array.from({ length: 50 }, () => pb.item('hot')),
    ]);
    expect(results.every((r) => r.price === 10)).toBe(true);
    expect(pa.loads + pb.loads).toBe(1);
  });

  it('a master killed: L1 hits go on, its slots fail open, no stale value outlives the gap, and L2 recovers when it returns', async () => {
    const fast = { timeoutMs: 100, breakerHalfOpenAfterMs: 200 };
    const a = (await instance({ namespace, l1: { offlineTtl: 300 } }, fast)).get(MultiLevelCache);
    const b = (await instance({ namespace, l1: { offlineTtl: 300 } }, fast)).get(MultiLevelCache);
    const direct = (await instance({ namespace, l1: false }, fast)).get(MultiLevelCache);
    const victim = await nodeOf(`${namespace}::victim`);
    let survivor = 0;
    while ((await nodeOf(`${namespace}::survivor:${survivor}`)) === victim) survivor++;
    const survivorKey = `survivor:${survivor}`;

    await a.set('victim', 'v1');
    await a.set(survivorKey, 'kept');
    await within(() => b.stats().bus.received >= 2, 2_000);
    expect(await b.get('victim')).toBe('v1');
    expect(b.peek('victim')?.value).toBe('v1');

    await cluster.nodes[victim].kill();
    try {
      // L1 hits do not touch Redis.
      const t0 = performance.now();
      expect(await b.get('victim')).toBe('v1');
      expect(performance.now() - t0).toBeLessThan(50);
      // A write for the dead master's slot resolves (fail-open) and still reaches B through a live node; at worst
      // (B's subscription was on the dead node) B's L1 entry lives `offlineTtl` more.
      const t1 = performance.now();
      await a.set('victim', 'v2');
      expect(performance.now() - t1).toBeLessThan(1_000);
      await within(async () => (await b.get('victim')) !== 'v1', 1_500);
      // Reads of that slot miss within the budget instead of hanging.
      const t2 = performance.now();
      expect(await direct.get('victim')).toBeUndefined();
      expect(performance.now() - t2).toBeLessThan(1_000);
      expect(direct.stats().l2Errors + (direct.stats().breaker === 'open' ? 1 : 0)).toBeGreaterThan(0);
      // Past cluster-node-timeout (2 s here) the other masters mark it failed and, with Redis' default
      // cluster-require-full-coverage, refuse every keyed command: all of L2 then fails open, PUBLISH still works.
      await sleep(3_000);
      const t3 = performance.now();
      expect([undefined, 'kept']).toContain(await direct.get(survivorKey));
      expect(performance.now() - t3).toBeLessThan(1_000);
    } finally {
      await cluster.nodes[victim].restart();
    }

    // Same app instances, no restart. The dead master's entries are gone (the harness keeps nothing on disk):
    // once its slot answers again, the old value does not come back.
    await within(
      async () => {
        const errors = direct.stats().l2Errors;
        const value = await direct.get('victim');
        if (direct.stats().l2Errors !== errors || direct.stats().breaker !== 'closed') return false;
        expect(value).toBeUndefined();
        return true;
      },
      20_000,
      200,
    );
    await a.set('victim', 'v3');
    await within(async () => (await b.get('victim')) === 'v3', 3_000);
    expect(await direct.get('victim')).toBe('v3');
    // Entries on the other masters are intact once the whole cluster is back.
    await within(async () => (await direct.get(survivorKey)) === 'kept', 20_000, 200);
    // The bus is live again and B's L1 follows writes on A.
    await within(() => b.stats().bus.connected && a.stats().bus.connected, 5_000);
    await a.set('victim', 'v4');
    await within(async () => (await b.get('victim')) === 'v4', 1_000);
  }, 45_000);
});
