import { createKeyv } from '@keyv/redis';
import { Test, type TestingModule } from '@nestjs/testing';
import { createCache } from 'cache-manager';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const open: TestingModule[] = [];

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

describe('MultiLevelCache.clear() (real Redis)', () => {
  it('removes every entry of the namespace from Redis and from L1 on every instance, and nothing of another namespace', async () => {
    const namespace = uniquePrefix('clear');
    const a = await start({ namespace, l2: { url: redisUrl() } });
    const b = await start({ namespace, l2: { url: redisUrl() } });
    // A namespace the pattern `<ns>*` would also match if the namespace were not escaped and bounded by `::`.
    const neighbour = await start({ namespace: `${namespace}x`, l2: { url: redisUrl() } });
    const manager = createCache({ stores: [createKeyv(redisUrl(), { namespace })] });
    try {
      for (let i = 0; i < 1_200; i++) await a.set(`k${i}`, i, { ttl: 60_000 });
      await a.wrap('loaded', () => 'x', { tags: ['t'] });
      await manager.set('theirs', 'cm', 60_000);
      await neighbour.set('k1', 'kept');
      expect(await b.get('k1')).toBe(1);
      expect(await b.get('loaded')).toBe('x');

      await expect(a.clear()).resolves.toBe(true);

      await vi.waitFor(async () => expect(await b.get('k1')).toBeUndefined());
      expect(await b.get('loaded')).toBeUndefined();
      expect(await a.get('k1199')).toBeUndefined();
      expect(await manager.get('theirs')).toBeUndefined();
      expect(await neighbour.get('k1')).toBe('kept');
      const redis = new Redis(redisUrl());
      try {
        expect(await redis.keys(`${namespace}::*`)).toStrictEqual([]);
      } finally {
        redis.disconnect();
      }
      await a.set('after', 1);
      expect(await b.get('after')).toBe(1);
    } finally {
      await manager.disconnect();
    }
  });

  it('a namespace with glob characters clears only itself', async () => {
    const base = uniquePrefix('clear-glob');
    const globby = await start({ namespace: `${base}*`, l1: false, l2: { url: redisUrl() } });
    const other = await start({ namespace: `${base}-other`, l1: false, l2: { url: redisUrl() } });
    await globby.set('k', 1);
    await other.set('k', 2);
    await expect(globby.clear()).resolves.toBe(true);
    expect(await globby.get('k')).toBeUndefined();
    expect(await other.get('k')).toBe(2);
  });

  it('with a Keyv store as L2, resolves to false: L1 is emptied, the store keeps its entries until their TTL', async () => {
    const store = new Map<string, unknown>();
    const cache = await start({ namespace: uniquePrefix('clear-store'), l2: { store } });
    await cache.set('k', 1);
    await expect(cache.clear()).resolves.toBe(false);
    expect(store.size).toBe(1);
    expect(cache.stats().l1Entries).toBe(0);
  });

  it('with L1 only, empties L1', async () => {
    const cache = await start({ namespace: uniquePrefix('clear-l1'), l2: false });
    await cache.set('k', 1);
    await expect(cache.clear()).resolves.toBe(true);
    expect(await cache.get('k')).toBeUndefined();
  });
});

describe('MultiLevelCache.expiresAt(key) (real Redis)', () => {
  it('tells when an entry stops being fresh, from L1 or (without L1) from Redis, and undefined on a miss', async () => {
    const namespace = uniquePrefix('expires-at');
    const withL1 = await start({ namespace, l2: { url: redisUrl() } });
    const l2Only = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    const before = Date.now();
    await withL1.set('k', 'v', { ttl: 120_000 });
    for (const cache of [withL1, l2Only]) {
      const at = (await cache.expiresAt('k')) as number;
      expect(at).toBeGreaterThanOrEqual(before + 120_000 - 5);
      expect(at).toBeLessThanOrEqual(Date.now() + 120_000 + 5);
      expect(await cache.expiresAt('missing')).toBeUndefined();
    }
    expect(l2Only.stats().hits).toStrictEqual({ l1: 0, l2: 0 });
    await withL1.del('k');
    expect(await l2Only.expiresAt('k')).toBeUndefined();
  });
});
