import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { CacheEvict } from './decorators/cache-evict.decorator.js';
import { Cached } from './decorators/cached.decorator.js';
import { CachePeer } from './fixtures/cache-peer.driver.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

@Injectable()
class Prices {
  loads = 0;
  price = 10;

  @Cached({ tags: (sku: string) => [`sku:${sku}`] })
  async get(sku: string): Promise<{ sku: string; price: number }> {
    this.loads++;
    return { sku, price: this.price };
  }

  @CacheEvict({ tags: (sku: string) => [`sku:${sku}`] })
  async change(sku: string, price: number): Promise<void> {
    void sku;
    this.price = price;
  }
}

@Module({ providers: [Prices] })
class PricesModule {}

const open: TestingModule[] = [];
const failing = async (): Promise<string> => {
  throw new Error('source down');
};
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function instance(options: MultiLevelCacheModuleOptions): Promise<TestingModule> {
  const mod = await Test.createTestingModule({
    imports: [MultiLevelCacheModule.forRoot({ ...options, isGlobal: true }), PricesModule],
  }).compile();
  open.push(mod);
  await mod.init();
  return mod;
}

/** Polls until `check` holds; resolves with the elapsed ms, or rejects after `timeoutMs`. */
async function within(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 1): Promise<number> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return performance.now() - t0;
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

describe('coherence across instances (real Redis)', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('coh');
  });

  it('a write or delete on A reaches B’s L1 within 50 ms', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const ca = a.get(MultiLevelCache);
    const cb = b.get(MultiLevelCache);
    await ca.set('k', 'v1');
    // (A read that overlaps the announcement of this write is fenced and fills L1 only on the next read.)
    await within(() => cb.stats().bus.received >= 1, 1_000);
    expect(await cb.get('k')).toBe('v1');
    expect(await cb.get('k')).toBe('v1');
    expect(cb.stats().hits.l1).toBe(1);

    await ca.set('k', 'v2');
    expect(await within(async () => (await cb.get('k')) === 'v2', 50)).toBeLessThan(50);

    await ca.del('k');
    expect(await within(async () => (await cb.get('k')) === undefined, 50)).toBeLessThan(50);
    expect(cb.stats().bus.received).toBeGreaterThanOrEqual(3);
  });

  it('does not let a read that overlapped an invalidation put the older value into L1', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    await a.get(MultiLevelCache).set('race', 'old');
    const cb = b.get(MultiLevelCache);
    const reading = cb.get('race');
    // The invalidation message for this key is handled while B's Redis read is still in flight.
    (cb as unknown as { onBusMessage(m: object): void }).onBusMessage({ o: 'elsewhere', k: ['race'] });
    expect(await reading).toBe('old');
    expect(cb.peek('race')).toBeUndefined();
    expect(await cb.get('race')).toBe('old');
    expect(cb.peek('race')?.value).toBe('old');
  });

  it('a loader that started before a write elsewhere neither overwrites it in Redis nor keeps its value in L1', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const ca = a.get(MultiLevelCache);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const loading = ca.wrap('w', async () => {
      await gate;
      return 'loaded-before-write';
    });
    await sleep(20);
    await b.get(MultiLevelCache).set('w', 'written');
    await within(() => ca.stats().bus.received >= 1, 1_000);
    release();
    expect(await loading).toBe('loaded-before-write');
    await sleep(50);
    expect(ca.peek('w')).toBeUndefined();
    expect(await ca.get('w')).toBe('written');
    const fresh = await instance({ namespace, l1: false, l2: { url: redisUrl() } });
    expect(await fresh.get(MultiLevelCache).get('w')).toBe('written');
  });

  it('a tag invalidation on B (@CacheEvict) clears A’s L1 and the Redis entry', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const pa = a.get(Prices);
    const pb = b.get(Prices);
    expect(await pa.get('x')).toEqual({ sku: 'x', price: 10 });
    expect(await pb.get('x')).toEqual({ sku: 'x', price: 10 });
    expect(pa.loads + pb.loads).toBe(1);
    await pb.change('x', 20);
    // A's L1 entry is gone (A holds nothing else) ...
    await within(() => a.get(MultiLevelCache).stats().l1Entries === 0, 50);
    // ... and the Redis entry is invalid: a fresh instance loads instead of reading it.
    const c = await instance({ namespace, l1: false, l2: { url: redisUrl() } });
    c.get(Prices).price = 20;
    expect(await c.get(Prices).get('x')).toEqual({ sku: 'x', price: 20 });
    expect(c.get(Prices).loads).toBe(1);
    // A now reads C's fresh entry from Redis.
    expect(await pa.get('x')).toEqual({ sku: 'x', price: 20 });
    expect(pa.loads).toBe(1);
  });

  it('invalidateTags drops only entries carrying the tag, on both tiers', async () => {
    const a = await instance({ namespace, l2: { url: redisUrl() } });
    const cache = a.get(MultiLevelCache);
    await cache.set('t1', 1, { tags: ['red'] });
    await cache.set('t2', 2, { tags: ['blue'] });
    await cache.invalidateTags(['red']);
    expect(await cache.get('t1')).toBeUndefined();
    expect(await cache.get('t2')).toBe(2);
    const other = await instance({ namespace, l1: false, l2: { url: redisUrl() } });
    expect(await other.get(MultiLevelCache).get('t1')).toBeUndefined();
    expect(await other.get(MultiLevelCache).get('t2')).toBe(2);
  });

  it('fences L1 when the subscription drops: no stale value outlives the gap', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const ca = a.get(MultiLevelCache);
    const cb = b.get(MultiLevelCache);
    await ca.set('g', 'old');
    expect(await cb.get('g')).toBe('old');
    const admin = createClient({ url: redisUrl() });
    await admin.connect();
    try {
      // Drop every subscriber connection, then write while they reconnect: the message can be lost.
      await admin.sendCommand(['CLIENT', 'KILL', 'TYPE', 'pubsub']);
      await ca.set('g', 'new');
    } finally {
      admin.destroy();
    }
    await within(() => cb.stats().bus.connected, 5_000, 10);
    let sawNewThenOld = false;
    let seenNew = false;
    for (let i = 0; i < 50; i++) {
      const v = await cb.get('g');
      if (v === 'new') seenNew = true;
      else if (seenNew) sawNewThenOld = true;
      await sleep(5);
    }
    expect(seenNew).toBe(true);
    expect(sawNewThenOld).toBe(false);
    expect(await cb.get('g')).toBe('new');
  });

  it('keeps L1 short-lived while Redis is down, and never serves a pre-outage value after recovery', async () => {
    const server = await RedisServer.start();
    try {
      const options = {
        namespace,
        l1: { offlineTtl: 200 },
        l2: { url: server.url, timeoutMs: 50, breakerHalfOpenAfterMs: 100 },
      };
      const [a, b] = [await instance(options), await instance(options)];
      const ca = a.get(MultiLevelCache);
      const cb = b.get(MultiLevelCache);
      await ca.set('o', 'before');
      expect(await cb.get('o')).toBe('before');
      await server.kill();
      await within(() => !cb.stats().bus.connected, 5_000, 10);
      // Within the offline TTL the old entry may still be served; after it, B has nothing stale left.
      await sleep(250);
      expect(await cb.get('o')).toBeUndefined();
      await server.restart();
      await within(() => cb.stats().bus.connected && ca.stats().bus.connected, 10_000, 20);
      await within(async () => (await ca.set('o', 'after'), (await cb.get('o')) === 'after'), 5_000, 20);
      expect(await cb.get('o')).toBe('after');
    } finally {
      await Promise.all(open.splice(0).map((m) => m.close()));
      await server.stop();
    }
  });

  it('serves a stale value at once during a slow refresh, and when the loader fails (grace)', async () => {
    const a = await instance({ namespace, l2: { url: redisUrl() } });
    const cache = a.get(MultiLevelCache);
    let version = 1;
    let calls = 0;
    const slow = async () => {
      calls++;
      await sleep(150);
      return `v${version}`;
    };
    expect(await cache.wrap('swr', slow, { ttl: 50, grace: 10_000 })).toBe('v1');
    await sleep(80);
    version = 2;
    const t0 = performance.now();
    expect(await cache.wrap('swr', slow, { ttl: 50, grace: 10_000 })).toBe('v1');
    expect(performance.now() - t0).toBeLessThan(100);
    expect(await cache.wrap('swr', slow, { ttl: 50, grace: 10_000 })).toBe('v1');
    await within(async () => (await cache.wrap('swr', slow, { ttl: 5_000, grace: 10_000 })) === 'v2', 2_000, 10);
    expect(calls).toBe(2);
    expect(cache.stats().staleHits).toBeGreaterThanOrEqual(2);

    // Fail-safe: after expiry, a throwing loader does not take the stale value away.
    await cache.wrap('safe', async () => 'good', { ttl: 30, grace: 10_000 });
    await sleep(60);
    expect(await cache.wrap('safe', failing, { ttl: 30, grace: 10_000 })).toBe('good');
    await sleep(20);
    expect(await cache.wrap('safe', failing, { ttl: 30, grace: 10_000 })).toBe('good');
    // Another instance (empty L1) gets the stale value from Redis too.
    const b = await instance({ namespace, l2: { url: redisUrl() } });
    expect(await b.get(MultiLevelCache).wrap('safe', failing, { ttl: 30, grace: 10_000 })).toBe('good');
  });
});

describe('coherence across processes', () => {
  const peers: CachePeer[] = [];
  afterEach(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  async function peers3(env: Record<string, string>): Promise<CachePeer[]> {
    const started = await Promise.all([0, 1, 2].map(() => CachePeer.start(env)));
    peers.push(...started);
    return started;
  }

  it('a write in this process clears the L1 of two other processes within 50 ms', async () => {
    const namespace = uniquePrefix('mp');
    const [b, c] = await Promise.all([
      CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace }),
      CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace }),
    ]);
    peers.push(b, c);
    const a = (await instance({ namespace, l2: { url: redisUrl() } })).get(MultiLevelCache);
    for (let round = 0; round < 5; round++) {
      const key = `k${round}`;
      // Each peer caches the key in its L1 and reports the moment it leaves.
      await Promise.all([b.send('prime', { key }), c.send('prime', { key })]);
      const t0 = performance.timeOrigin + performance.now();
      await a.set(key, `v${round}`);
      for (const peer of [b, c]) {
        const cleared = await peer.waitFor((e) => e.event === 'cleared' && e.key === key, 5_000);
        expect((cleared.at as number) - t0).toBeLessThan(50);
        expect(await peer.send('get', { key })).toBe(`v${round}`);
      }
    }
  }, 120_000);

  it('3 processes × 200 concurrent misses of one key → exactly one loader call', async () => {
    const ps = await peers3({ REDIS_URL: redisUrl(), NAMESPACE: uniquePrefix('stampede'), LOAD_MS: '200' });
    const results = await Promise.all(ps.map((p) => p.send<string[]>('item', { key: 'hot', n: 200 })));
    const stats = await Promise.all(ps.map((p) => p.send<{ loads: number }>('stats')));
    expect(stats.reduce((sum, s) => sum + s.loads, 0)).toBe(1);
    const values = new Set(results.flat());
    expect(values.size).toBe(1);
  }, 120_000);

  it('a lease holder killed mid-load blocks the others no longer than the lease', async () => {
    const namespace = uniquePrefix('lease');
    const [holder, waiter] = await Promise.all([
      CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace, LOAD_MS: '60000', LEASE_TTL_MS: '500' }),
      CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace, LOAD_MS: '10', LEASE_TTL_MS: '500' }),
    ]);
    peers.push(holder, waiter);
    void holder.send('item', { key: 'slow' }).catch(() => undefined);
    await holder.waitFor((e) => e.event === 'loading');
    holder.kill();
    const t0 = Date.now();
    const [value] = await waiter.send<string[]>('item', { key: 'slow' });
    const waited = Date.now() - t0;
    expect(value).toMatch(/^item slow by /);
    expect(waited).toBeLessThan(3_000);
    expect((await waiter.send<{ loads: number }>('stats')).loads).toBe(1);
  }, 120_000);
});

function manualGate(): { open: Promise<void>; release: () => void } {
  let release!: () => void;
  const opened = new Promise<void>((resolve) => (release = resolve));
  return { open: opened, release };
}

describe('writes racing loads and refreshes (real Redis)', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('race');
  });

  it('defect 11: a grace refresh that started before a set() elsewhere does not overwrite the newer value', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const ca = a.get(MultiLevelCache);
    const cb = b.get(MultiLevelCache);
    expect(await cb.wrap('k', async () => 'old', { ttl: 50, grace: 60_000 })).toBe('old');
    await sleep(80);
    const refresh = manualGate();
    let refreshing = false;
    const stale = await cb.wrap(
      'k',
      async () => {
        refreshing = true;
        await refresh.open;
        return 'old-refresh';
      },
      { ttl: 50, grace: 60_000 },
    );
    expect(stale).toBe('old');
    await within(() => refreshing, 1_000);
    await ca.set('k', 'v2', { ttl: 60_000 });
    await within(() => cb.stats().bus.received >= 1, 1_000);
    refresh.release();
    await sleep(150);
    const fresh = (await instance({ namespace, l1: false, l2: { url: redisUrl() } })).get(MultiLevelCache);
    expect(await fresh.get('k')).toBe('v2');
    expect(await ca.get('k')).toBe('v2');
    expect(await cb.get('k')).toBe('v2');
  });

  it('defect 11: a grace refresh started from an L2 stale entry does not overwrite a set() made during it', async () => {
    const a = await instance({ namespace, l2: { url: redisUrl() } });
    const ca = a.get(MultiLevelCache);
    await ca.set('k', 'old', { ttl: 50, grace: 60_000 });
    await sleep(80);
    const b = await instance({ namespace, l2: { url: redisUrl() } });
    const cb = b.get(MultiLevelCache);
    const refresh = manualGate();
    let refreshing = false;
    expect(
      await cb.wrap(
        'k',
        async () => {
          refreshing = true;
          await refresh.open;
          return 'old-refresh';
        },
        { ttl: 50, grace: 60_000 },
      ),
    ).toBe('old');
    await within(() => refreshing, 1_000);
    await ca.set('k', 'v2', { ttl: 60_000 });
    refresh.release();
    await sleep(150);
    const fresh = (await instance({ namespace, l1: false, l2: { url: redisUrl() } })).get(MultiLevelCache);
    expect(await fresh.get('k')).toBe('v2');
  });

  it('defect 12: a tagged set() whose tag-version read fails removes the old record instead of leaving it for others', async () => {
    // A writer whose Redis user may not run MGET: its tag-version reads fail, everything else works.
    const admin = await createClient({ url: redisUrl() }).connect();
    const user = `nomget_${namespace.replace(/\W/g, '_')}`;
    try {
      await admin.sendCommand(['ACL', 'SETUSER', user, 'on', '>pw', '~*', '&*', '+@all', '-mget']);
      const url = redisUrl().replace('redis://', `redis://${user}:pw@`);
      const [n, b] = [
        await instance({ namespace, l2: { url: redisUrl() } }),
        await instance({ namespace, l2: { url: redisUrl() } }),
      ];
      const writer = (await instance({ namespace, l2: { url } })).get(MultiLevelCache);
      const cb = b.get(MultiLevelCache);
      await n.get(MultiLevelCache).set('k', 'v1', { tags: ['t'] });
      await within(async () => (await cb.get('k')) === 'v1', 1_000);
      const before = cb.stats().bus.received;
      await writer.set('k', 'v2', { tags: ['t'] });
      expect(writer.stats().l2Errors).toBeGreaterThanOrEqual(1);
      await within(() => cb.stats().bus.received > before, 1_000);
      expect(await cb.get('k')).not.toBe('v1');
      const fresh = (await instance({ namespace, l1: false, l2: { url: redisUrl() } })).get(MultiLevelCache);
      expect(await fresh.get('k')).toBeUndefined();
      expect(await writer.get('k')).toBe('v2');
    } finally {
      await admin.sendCommand(['ACL', 'DELUSER', user]);
      admin.destroy();
    }
  });

  it('defect 13: wrap() after del() resolved does not join the load that started before the del', async () => {
    const cache = (await instance({ namespace, l2: { url: redisUrl() } })).get(MultiLevelCache);
    const slow = manualGate();
    const first = cache.wrap('k', async () => {
      await slow.open;
      return 'old';
    });
    await sleep(20);
    await cache.del('k');
    let calls = 0;
    const second = cache.wrap('k', async () => {
      calls++;
      return 'new';
    });
    slow.release();
    expect(await second).toBe('new');
    expect(calls).toBe(1);
    expect(await first).toBe('old');
    await sleep(50);
    expect(await cache.get('k')).toBe('new');
    const fresh = (await instance({ namespace, l1: false, l2: { url: redisUrl() } })).get(MultiLevelCache);
    expect(await fresh.get('k')).toBe('new');
  });

  it('defect 13: a load detached by a del() on another instance (via the bus) is not joined either', async () => {
    const [a, b] = [
      await instance({ namespace, l2: { url: redisUrl() } }),
      await instance({ namespace, l2: { url: redisUrl() } }),
    ];
    const cb = b.get(MultiLevelCache);
    const slow = manualGate();
    const first = cb.wrap('k', async () => {
      await slow.open;
      return 'old';
    });
    await sleep(20);
    await a.get(MultiLevelCache).del('k');
    await within(() => cb.stats().bus.received >= 1, 1_000);
    const second = cb.wrap('k', async () => 'new');
    slow.release();
    expect(await second).toBe('new');
    expect(await first).toBe('old');
  });

  it('defect 13: a wrap() after invalidateTags() resolved does not join a load of an entry carrying the tag', async () => {
    const cache = (await instance({ namespace, l2: { url: redisUrl() } })).get(MultiLevelCache);
    const slow = manualGate();
    const first = cache.wrap(
      'k',
      async () => {
        await slow.open;
        return 'old';
      },
      { tags: ['t'] },
    );
    await sleep(20);
    await cache.invalidateTags(['t']);
    const second = cache.wrap('k', async () => 'new', { tags: ['t'] });
    slow.release();
    expect(await second).toBe('new');
    expect(await first).toBe('old');
  });
});
