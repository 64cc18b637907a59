import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import type { Cache as CacheManagerCache } from 'cache-manager';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { InvalidCacheOptionsError } from '../errors/invalid-cache-options.error.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { CACHE_MANAGER } from './cache-manager.constants.js';
import type { Cache } from './cache-manager.facade.js';
import type { CacheModuleOptions } from './cache-module-options.interface.js';
import { CacheModule } from './cache.module.js';

const open: INestApplicationContext[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
});

async function start(options: CacheModuleOptions): Promise<INestApplicationContext> {
  const moduleRef = await Test.createTestingModule({ imports: [CacheModule.register(options)] }).compile();
  const app = await moduleRef.init();
  open.push(app);
  return app;
}

const tiers = [
  ['L1 only', () => ({ l2: false }) as const],
  ['L1 + Redis', () => ({ l2: { url: redisUrl() } })],
] as const;

describe.each(tiers)('CACHE_MANAGER (cache-manager 7 API) with %s', (_label, tier) => {
  let namespace: string;
  let cache: Cache;
  beforeEach(async () => {
    namespace = uniquePrefix('cm-facade');
    cache = (await start({ namespace, ...tier() })).get<Cache>(CACHE_MANAGER);
  });

  it('is a cache-manager 7 Cache (type-checked) with its whole method set', () => {
    const typed: CacheManagerCache = cache;
    const methods = [
      'get',
      'mget',
      'ttl',
      'set',
      'mset',
      'del',
      'mdel',
      'clear',
      'wrap',
      'on',
      'off',
      'disconnect',
      'cacheId',
    ];
    expect(methods.filter((m) => typeof (typed as unknown as Record<string, unknown>)[m] !== 'function')).toStrictEqual(
      [],
    );
  });

  it('get / set resolve as cache-manager: set resolves to the value, a miss is undefined, null is a value', async () => {
    expect(await cache.get('missing')).toBeUndefined();
    await expect(cache.set('k', { a: 1 })).resolves.toStrictEqual({ a: 1 });
    expect(await cache.get('k')).toStrictEqual({ a: 1 });
    await cache.set('null', null);
    expect(await cache.get('null')).toBeNull();
  });

  it('set(key, value, ttl) takes the TTL in milliseconds; ttl(key) is when the entry expires', async () => {
    const before = Date.now();
    await cache.set('short', 1, 200_000);
    await cache.set('default', 1);
    const short = (await cache.ttl('short')) as number;
    const byDefault = (await cache.ttl('default')) as number;
    expect(short).toBeGreaterThan(before + 150_000);
    expect(short).toBeLessThanOrEqual(Date.now() + 200_000 + 5);
    // The module's default TTL (60 s).
    expect(byDefault).toBeLessThanOrEqual(Date.now() + 60_000 + 5);
    expect(byDefault).toBeGreaterThan(before + 30_000);
    expect(await cache.ttl('missing')).toBeUndefined();
  });

  it('set(key, value, 0) is cache-manager’s “no expiry”: kept for the longest TTL (365 days)', async () => {
    await cache.set('forever', 'x', 0);
    expect(await cache.ttl('forever')).toBeGreaterThan(Date.now() + 364 * 24 * 3_600_000);
  });

  it('rejects a bad TTL naming the argument', async () => {
    await expect(cache.set('k', 1, -5)).rejects.toThrow(InvalidCacheOptionsError);
    await expect(cache.set('k', 1, 1.5)).rejects.toThrow(
      /`set\(key, value, ttl\)` must be an integer number of milliseconds/,
    );
    await expect(cache.wrap('k', () => 1, Number.NaN)).rejects.toThrow(/`wrap\(key, fn, ttl\)` must be/);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('mget / mset / mdel / del', async () => {
    const list = await cache.mset<unknown>([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 100_000 },
    ]);
    expect(list).toStrictEqual([
      { key: 'a', value: 1 },
      { key: 'b', value: 'two', ttl: 100_000 },
    ]);
    expect(await cache.mget(['a', 'b', 'c'])).toStrictEqual([1, 'two', undefined]);
    await expect(cache.del('a')).resolves.toBe(true);
    expect(await cache.get('a')).toBeUndefined();
    await cache.set('c', 3);
    await expect(cache.mdel(['b', 'c'])).resolves.toBe(true);
    expect(await cache.mget(['a', 'b', 'c'])).toStrictEqual([undefined, undefined, undefined]);
  });

  it('clear() drops what was written through it', async () => {
    await cache.set('a', 1);
    await cache.wrap('b', () => 2);
    await expect(cache.clear()).resolves.toBe(true);
    expect(await cache.mget(['a', 'b'])).toStrictEqual([undefined, undefined]);
    await cache.set('a', 3);
    expect(await cache.get('a')).toBe(3);
  });

  it('wrap runs fn once for concurrent callers and stores the result for ttl ms', async () => {
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const fn = async () => {
      calls++;
      await gate;
      return { loaded: calls };
    };
    const all = Promise.all(Array.from({ length: 5 }, () => cache.wrap('w', fn, 120_000)));
    await vi.waitFor(() => expect(calls).toBe(1));
    release();
    expect(await all).toStrictEqual(Array.from({ length: 5 }, () => ({ loaded: 1 })));
    expect(await cache.wrap('w', fn)).toStrictEqual({ loaded: 1 });
    expect(calls).toBe(1);
    expect(await cache.ttl('w')).toBeLessThanOrEqual(Date.now() + 120_000 + 5);
    expect(await cache.ttl('w')).toBeGreaterThan(Date.now() + 60_000);
  });

  it('wrap takes a TTL computed from the value, and { raw: true } resolves to { value, expires }', async () => {
    await cache.wrap(
      'f',
      () => 7,
      (value: number) => value * 100_000,
    );
    expect(await cache.ttl('f')).toBeGreaterThan(Date.now() + 600_000);
    const raw = await cache.wrap('f', () => 8, { raw: true });
    expect(raw.value).toBe(7);
    expect(raw.expires).toBeGreaterThan(Date.now() + 600_000);
  });

  it('wrap with refreshThreshold: a hit with less TTL left answers the current value and refreshes in the background once', async () => {
    await cache.set('r', 'old', 10_000);
    const refreshed = new Promise((resolve) => cache.on('refresh', resolve));
    let calls = 0;
    const fn = () => `new ${++calls}`;
    // 10 s left < 20 s threshold: refresh; both callers get the current value, one refresh runs.
    const [a, b] = await Promise.all([cache.wrap('r', fn, 60_000, 20_000), cache.wrap('r', fn, 60_000, 20_000)]);
    expect([a, b]).toStrictEqual(['old', 'old']);
    expect(await refreshed).toStrictEqual({ key: 'r', value: 'new 1' });
    expect(await cache.get('r')).toBe('new 1');
    expect(calls).toBe(1);
    // 60 s left > 20 s: no refresh.
    expect(await cache.wrap('r', fn, 60_000, 20_000)).toBe('new 1');
    expect(calls).toBe(1);
  });

  it('emits cache-manager’s events, and off() removes a listener', async () => {
    const seen: unknown[] = [];
    const listener = (data: unknown) => seen.push(data);
    cache.on('set', listener);
    cache.on('get', listener);
    cache.on('del', listener);
    await cache.set('e', 1);
    await cache.get('e');
    await cache.del('e');
    cache.off('set', listener);
    await cache.set('e', 2);
    expect(seen).toStrictEqual([{ key: 'e', value: 1 }, { key: 'e', value: 1 }, { key: 'e' }]);
  });

  it('keeps the value’s type (Date, Map, BigInt) where cache-manager returns JSON', async () => {
    const value = { at: new Date(1_700_000_000_000), tags: new Map([['a', 1n]]) };
    await cache.set('typed', value);
    const read = await cache.get<typeof value>('typed');
    expect(read?.at).toBeInstanceOf(Date);
    expect(read?.tags.get('a')).toBe(1n);
  });

  it('cacheId() is the namespace, disconnect() resolves and leaves the cache usable until the app closes', async () => {
    expect(cache.cacheId()).toBe(namespace);
    await expect(cache.disconnect()).resolves.toBeUndefined();
    await cache.set('after', 1);
    expect(await cache.get('after')).toBe(1);
  });
});

describe('CACHE_MANAGER on two instances sharing Redis', () => {
  it('a set or clear on one is seen by the other (no stale L1)', async () => {
    const namespace = uniquePrefix('cm-shared');
    const appA = await start({ namespace, l2: { url: redisUrl() } });
    const appB = await start({ namespace, l2: { url: redisUrl() } });
    const a = appA.get<Cache>(CACHE_MANAGER);
    const b = appB.get<Cache>(CACHE_MANAGER);
    await a.set('k', 'v1', 100_000);
    expect(await b.get('k')).toBe('v1');
    await a.set('k', 'v2', 100_000);
    await vi.waitFor(async () => expect(await b.get('k')).toBe('v2'));
    expect(appB.get(MultiLevelCache).stats().bus.received).toBeGreaterThan(0);
    await a.clear();
    await vi.waitFor(async () => expect(await b.get('k')).toBeUndefined());
  });

  it('ttl(key) without L1 is the expiry of the Redis entry, and clear() removes entries set on MultiLevelCache directly', async () => {
    const namespace = uniquePrefix('cm-no-l1');
    const app = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    const cache = app.get<Cache>(CACHE_MANAGER);
    await cache.set('k', 1, 150_000);
    const at = (await cache.ttl('k')) as number;
    expect(at).toBeGreaterThan(Date.now() + 140_000);
    expect(at).toBeLessThanOrEqual(Date.now() + 150_000 + 5);
    await app.get(MultiLevelCache).set('direct', 2);
    await cache.clear();
    expect(await cache.mget(['k', 'direct'])).toStrictEqual([undefined, undefined]);
  });

  it('set(key, value, ttl) gives the Redis record that TTL', async () => {
    const namespace = uniquePrefix('cm-pttl');
    const cache = (await start({ namespace, l2: { url: redisUrl() } })).get<Cache>(CACHE_MANAGER);
    await cache.set('k', 1, 250_000);
    const redis = new Redis(redisUrl());
    try {
      const ttl = await redis.pttl(`${namespace}::k`);
      expect(ttl).toBeGreaterThan(200_000);
      expect(ttl).toBeLessThanOrEqual(250_000);
    } finally {
      redis.disconnect();
    }
  });
});
