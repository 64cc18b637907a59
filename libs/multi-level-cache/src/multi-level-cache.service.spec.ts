import { Test, type TestingModule } from '@nestjs/testing';
import KeyvRedis, { createClient, Keyv } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { CacheSerializationError } from './errors/cache-serialization.error.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
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

const typeTable: [string, unknown][] = [
  ['Date', new Date('2020-01-02T03:04:05.006Z')],
  ['BigInt', 2n ** 80n],
  [
    'Map',
    new Map<unknown, unknown>([
      ['a', 1],
      [2, new Date(7)],
    ]),
  ],
  ['Set', new Set(['x', 1, 3n])],
  ['Buffer', Buffer.from('héllo')],
  ['nested', { a: [{ b: new Map([['c', new Set([new Date(1)])]]) }], u: undefined, n: null }],
  ['null', null],
  ['NaN', Number.NaN],
  ['string', 'plain'],
];

describe('MultiLevelCache (real Redis)', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('mlc');
  });

  it.each(typeTable)('returns %s with its type from L1 and from L2', async (_label, value) => {
    const writer = await start({ namespace, l2: { url: redisUrl() } });
    await writer.set('k', value);
    const fromL1 = await writer.get('k');
    expect(fromL1).toStrictEqual(value);
    expect(writer.stats().hits.l1).toBe(1);

    const l2Only = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    const fromL2 = await l2Only.get('k');
    expect(fromL2).toStrictEqual(value);
    expect(l2Only.stats().hits.l2).toBe(1);
  });

  it('returns the stored reference on an L1 hit (no copy) and undefined on a miss', async () => {
    const cache = await start({ namespace, l2: false });
    const value = { list: [1, 2, 3] };
    await cache.set('obj', value);
    expect(await cache.get('obj')).toBe(value);
    expect(await cache.get('absent')).toBeUndefined();
    expect(cache.stats().misses).toBe(1);
  });

  it('caches null as a hit, with its own TTL', async () => {
    const cache = await start({ namespace, nullTtl: 80, ttl: 10_000, l2: { url: redisUrl() } });
    let calls = 0;
    const loader = async () => {
      calls++;
      return null;
    };
    expect(await cache.wrap('none', loader)).toBeNull();
    expect(await cache.wrap('none', loader)).toBeNull();
    expect(await cache.get('none')).toBeNull();
    expect(calls).toBe(1);
    await sleep(150);
    expect(await cache.get('none')).toBeUndefined();
    expect(await cache.wrap('none', loader)).toBeNull();
    expect(calls).toBe(2);
  });

  it('runs one loader for 1,000 concurrent misses of a key', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    let calls = 0;
    const loader = async () => {
      calls++;
      await sleep(30);
      return { at: new Date(1) };
    };
    const results = await Promise.all(Array.from({ length: 1000 }, () => cache.wrap('hot', loader)));
    expect(calls).toBe(1);
    expect(cache.stats().loaderCalls).toBe(1);
    for (const r of results) expect(r).toStrictEqual({ at: new Date(1) });
    // All waiters share the one loaded object.
    expect(new Set(results).size).toBe(1);
  });

  it('delivers a loader error to every waiter and caches nothing', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    let calls = 0;
    const failing = async () => {
      calls++;
      await sleep(20);
      throw new Error('db down');
    };
    const settled = await Promise.allSettled(Array.from({ length: 50 }, () => cache.wrap('bad', failing)));
    expect(calls).toBe(1);
    expect(settled.every((s) => s.status === 'rejected' && (s.reason as Error).message === 'db down')).toBe(true);
    expect(await cache.get('bad')).toBeUndefined();
    const other = await start({ namespace, l2: { url: redisUrl() } });
    expect(await other.get('bad')).toBeUndefined();
    expect(await cache.wrap('bad', async () => 'ok')).toBe('ok');
    expect(cache.stats().loaderErrors).toBe(1);
  });

  it('expires entries after their TTL on both tiers', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await cache.set('short', 'v', { ttl: 100 });
    expect(await cache.get('short')).toBe('v');
    await sleep(160);
    expect(await cache.get('short')).toBeUndefined();
    const other = await start({ namespace, l2: { url: redisUrl() } });
    expect(await other.get('short')).toBeUndefined();
  });

  it("back-fills L1 from L2 with the entry's remaining TTL, not a fresh one", async () => {
    const writer = await start({ namespace, l2: { url: redisUrl() } });
    await writer.set('bf', 'value', { ttl: 600 });
    await sleep(300);
    const reader = await start({ namespace, l2: { url: redisUrl() } });
    expect(await reader.get('bf')).toBe('value');
    expect(reader.stats().hits.l2).toBe(1);
    expect(await reader.get('bf')).toBe('value');
    expect(reader.stats().hits.l1).toBe(1);
    await sleep(400);
    // A full-TTL back-fill would still hold it in L1 here.
    expect(await reader.get('bf')).toBeUndefined();
    expect(reader.stats().hits.l1).toBe(1);
  });

  it('caps the L1 lifetime with l1.ttl and then reads L2 again', async () => {
    const cache = await start({ namespace, l1: { ttl: 50 }, l2: { url: redisUrl() } });
    await cache.set('capped', 1, { ttl: 10_000 });
    await sleep(100);
    expect(await cache.get('capped')).toBe(1);
    expect(cache.stats().hits).toEqual({ l1: 0, l2: 1 });
  });

  it('bounds L1 by entries (LRU)', async () => {
    const cache = await start({ namespace, l1: { maxEntries: 2 }, l2: false });
    await cache.set('a', 1);
    await cache.set('b', 2);
    await cache.get('a');
    await cache.set('c', 3);
    expect(await cache.get('b')).toBeUndefined();
    expect(await cache.get('a')).toBe(1);
    expect(cache.stats().l1Entries).toBe(2);
  });

  it('bounds L1 by approximate bytes when l1.maxSizeBytes is set', async () => {
    const cache = await start({ namespace, l1: { maxSizeBytes: 100 }, l2: false });
    const v = 'x'.repeat(18); // encodes to 20 characters, counted as 40 bytes
    await cache.set('a', v);
    await cache.set('b', v);
    await cache.set('c', v);
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('c')).toBe(v);
    await cache.set('big', 'y'.repeat(200));
    expect(await cache.get('big')).toBeUndefined();
  });

  it('spreads TTLs with jitter', async () => {
    const cache = await start({ namespace, ttl: 10_000, jitter: 0.5, l2: false });
    const lifetimes = new Set<number>();
    for (let i = 0; i < 20; i++) {
      await cache.set(`j${i}`, i);
      const left = (cache.peek(`j${i}`)?.freshUntil ?? 0) - performance.now();
      expect(left).toBeGreaterThan(4_900);
      expect(left).toBeLessThanOrEqual(10_000);
      lifetimes.add(Math.round(left / 100));
    }
    expect(lifetimes.size).toBeGreaterThan(5);
  });

  it('stores Keyv records that Keyv (the cache-manager store) reads as the value, and treats a foreign record as a miss', async () => {
    const cache = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    await cache.set('shared', 'from-cache', { ttl: 60_000 });
    const keyv = new Keyv({ store: new KeyvRedis(redisUrl(), { namespace }), namespace, useKeyPrefix: false });
    try {
      const record = await keyv.get<string>('shared', { raw: true });
      expect(record?.value).toBe('from-cache');
      expect(record?.expires).toBeGreaterThan(Date.now());
      await keyv.delete('shared');
      expect(await cache.get('shared')).toBeUndefined();
    } finally {
      await keyv.disconnect();
    }
    const raw = await createClient({ url: redisUrl() }).connect();
    try {
      await raw.set(`${namespace}::foreign`, 'not json {');
      await raw.set(`${namespace}::other`, '{"expires":null,"value":"a bare string"}');
    } finally {
      raw.destroy();
    }
    expect(await cache.get('foreign')).toBeUndefined();
    expect(await cache.get('other')).toBeUndefined();
    expect(await cache.wrap('foreign', () => 'loaded')).toBe('loaded');
  });

  it('does not bring back an invalidated tagged entry when the tag counters are lost (new tag epoch)', async () => {
    const cache = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    await cache.set('tagged', 'before', { tags: ['t'] });
    expect(await cache.get('tagged')).toBe('before');
    await cache.invalidateTags(['t']);
    expect(await cache.get('tagged')).toBeUndefined();
    // What losing the master of the `{namespace}` slot does: the counters and the epoch are gone, the entry is not.
    const raw = await createClient({ url: redisUrl() }).connect();
    try {
      expect(await raw.del([`{${namespace}}:tags-epoch`, `{${namespace}}:tag:t`])).toBe(2);
      expect(await raw.exists(`${namespace}::tagged`)).toBe(1);
    } finally {
      raw.destroy();
    }
    expect(await cache.get('tagged')).toBeUndefined();
    await cache.set('tagged', 'after', { tags: ['t'] });
    expect(await cache.get('tagged')).toBe('after');
  });

  it('deletes from both tiers', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await cache.set('d1', 1);
    await cache.set('d2', 2);
    await cache.del(['d1', 'd2']);
    expect(await cache.get('d1')).toBeUndefined();
    const other = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    expect(await other.get('d2')).toBeUndefined();
  });

  it('refuses an unserializable value and writes nothing', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await cache.set('keep', { v: 1 });
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await expect(cache.set('keep', { fn: () => 1 })).rejects.toThrow(CacheSerializationError);
    await expect(cache.set('keep', cyclic)).rejects.toThrow(/circular/);
    await expect(cache.set('keep', { s: Symbol('s') })).rejects.toThrow(/\$\.s/);
    expect(await cache.get('keep')).toStrictEqual({ v: 1 });
    const other = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    expect(await other.get('keep')).toStrictEqual({ v: 1 });
    await expect(cache.wrap('fresh', async () => ({ f: () => 1 }))).rejects.toThrow(CacheSerializationError);
    expect(await other.get('fresh')).toBeUndefined();
  });

  it.each([
    [{ ttl: -5 }, 'ttl'],
    [{ l1: { maxEntries: 0 } }, 'l1.maxEntries'],
    [{ l2: { url: 'localhost:6379' } }, 'l2.url'],
    [{ l2: { url: 'redis://x', timeoutMs: 0 } }, 'l2.timeoutMs'],
    [{ l1: false, l2: false }, 'l1'],
    [{ jitter: 2 }, 'jitter'],
    [{ ttlSeconds: 5 }, 'ttlSeconds'],
  ] as [MultiLevelCacheModuleOptions, string][])('rejects bad options %j naming %s', async (options, option) => {
    const error = await start(options).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCacheOptionsError);
    expect((error as InvalidCacheOptionsError).option).toBe(option);
    expect((error as Error).message).toContain(`\`${option}\``);
  });

  const url = 'redis://127.0.0.1:1';
  it.each([
    ['ttl', 'Infinity', { ttl: Number.POSITIVE_INFINITY }],
    ['ttl', 'NaN', { ttl: Number.NaN }],
    ['ttl', '1.5', { ttl: 1.5 }],
    ['ttl', '34560000000', { ttl: 400 * 24 * 3_600_000 }],
    ['nullTtl', 'Infinity', { nullTtl: Number.POSITIVE_INFINITY }],
    ['grace', '-1', { grace: -1 }],
    ['grace', 'Infinity', { grace: Number.POSITIVE_INFINITY }],
    ['l1.ttl', 'Infinity', { l1: { ttl: Number.POSITIVE_INFINITY } }],
    ['l1.offlineTtl', '2147483648', { l1: { offlineTtl: 2 ** 31 } }],
    ['l2.timeoutMs', '2147483648', { l2: { url, timeoutMs: 2 ** 31 } }],
    ['l2.timeoutMs', 'Infinity', { l2: { url, timeoutMs: Number.POSITIVE_INFINITY } }],
    ['l2.timeoutMs', '0.5', { l2: { url, timeoutMs: 0.5 } }],
    ['l2.breakerHalfOpenAfterMs', '2147483648', { l2: { url, breakerHalfOpenAfterMs: 2 ** 31 } }],
    ['l2.connectTimeoutMs', 'NaN', { l2: { url, connectTimeoutMs: Number.NaN } }],
    ['l2.breakerThreshold', 'Infinity', { l2: { url, breakerThreshold: Number.POSITIVE_INFINITY } }],
    ['lease.ttlMs', '2147483648', { lease: { ttlMs: 2 ** 31 } }],
    ['lease.waitMs', '2147483648', { lease: { waitMs: 2 ** 31 } }],
    ['lease.pollMs', '-1', { lease: { pollMs: -1 } }],
    ['lease.pollMs', '"50"', { lease: { pollMs: '50' } }],
  ] as [string, string, MultiLevelCacheModuleOptions][])(
    'defect 15/26: rejects `%s` = %s at boot, naming the option, the value and a fix',
    async (option, shown, options) => {
      const error = await start(options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCacheOptionsError);
      expect((error as InvalidCacheOptionsError).name).toBe('InvalidCacheOptionsError');
      expect((error as InvalidCacheOptionsError).option).toBe(option);
      const message = (error as Error).message;
      expect(message.startsWith(`\`${option}\` must be `)).toBe(true);
      expect(message).toContain(`; got ${shown}.`);
    },
  );

  it('accepts the largest timer (2147483647 ms) and the largest TTL (365 days)', async () => {
    const cache = await start({
      namespace,
      ttl: 365 * 24 * 3_600_000,
      l2: false,
      lease: { ttlMs: 2 ** 31 - 1, waitMs: 2 ** 31 - 1 },
    });
    await cache.set('k', 1, { ttl: 365 * 24 * 3_600_000, grace: 2 ** 31 - 1 });
    expect(await cache.get('k')).toBe(1);
  });

  it('defect 15: a write with a ttl of Infinity is refused at the call instead of never reaching Redis', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await expect(cache.set('x', 1, { ttl: Number.POSITIVE_INFINITY })).rejects.toThrow(/`ttl` must be/);
    await expect(cache.wrap('x', async () => 1, { ttl: Number.NaN })).rejects.toThrow(/`ttl` must be/);
    await expect(cache.wrap('x', async () => 1, { grace: 2 ** 53 })).rejects.toThrow(/`grace` must be/);
    await expect(cache.set('x', 1, { nullTtl: -1 })).rejects.toThrow(/`nullTtl` must be/);
    expect(await cache.get('x')).toBeUndefined();
  });

  it('rejects a tag list or key list that is not one, naming the argument, before touching either tier', async () => {
    const cache = await start({ namespace, l2: false });
    await cache.set('r', 1, { tags: ['red'] });
    await expect(cache.invalidateTags('red' as unknown as string[])).rejects.toThrow(
      /^`tags` must be an array of strings; got "red"\./,
    );
    await expect(cache.invalidateTags([1] as unknown as string[])).rejects.toThrow(InvalidCacheOptionsError);
    await expect(cache.del([1] as unknown as string[])).rejects.toThrow(
      /^`key` must be a string or an array of strings/,
    );
    expect(await cache.get('r')).toBe(1);
  });

  it('rejects bad per-call options', async () => {
    const cache = await start({ namespace, l2: false });
    await expect(cache.set('x', 1, { ttl: -1 })).rejects.toThrow(InvalidCacheOptionsError);
    await expect(cache.wrap('x', async () => 1, { tags: [1 as unknown as string] })).rejects.toThrow(/`tags`/);
  });

  it('works through forRootAsync', async () => {
    const mod = await Test.createTestingModule({
      imports: [MultiLevelCacheModule.forRootAsync({ useFactory: async () => ({ namespace, ttl: 1000, l2: false }) })],
    }).compile();
    open.push(mod);
    await mod.init();
    const cache = mod.get(MultiLevelCache);
    await cache.set('a', new Date(3));
    expect(await cache.get('a')).toStrictEqual(new Date(3));
    expect(cache.stats().breaker).toBe('disabled');
  });
});
