import { createClient, createKeyv } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { INestApplicationContext } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { createCache, type Cache as CacheManagerCache } from 'cache-manager';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { encodeValue } from '../codec/value-codec.js';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';

/** JSON-able values, including the strings Keyv escapes (a leading ":") and one that looks like its Buffer form. */
const JSON_VALUES: [string, unknown][] = [
  ['object', { id: 1, name: 'Ada', tags: ['a', 'b'], nested: { ok: true, none: null } }],
  ['array', [1, 'two', { three: 3 }]],
  ['string', 'hello'],
  ['string with a leading colon', ':8080'],
  ['IPv6 loopback', '::1'],
  ['string that looks like a Keyv Buffer', ':base64:aGk='],
  ['object key with a leading colon', { ':k': ':v', plain: 'x:y' }],
  ['object with numeric a and f fields', { a: 1, f: 2, id: 'x' }],
  ['number', 42.5],
  ['boolean', false],
  ['null', null],
];

const open: INestApplicationContext[] = [];
const managers: CacheManagerCache[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((app) => app.close()));
  await Promise.all(managers.splice(0).map((m) => m.disconnect()));
});

async function ours(namespace: string): Promise<MultiLevelCache> {
  const moduleRef = await Test.createTestingModule({
    imports: [MultiLevelCacheModule.forRoot({ namespace, l2: { url: redisUrl() } })],
  }).compile();
  const app = await moduleRef.init();
  open.push(app);
  return app.get(MultiLevelCache);
}

/** cache-manager 7 on @keyv/redis as the Nest docs set it up, on the same namespace. */
function cacheManager(namespace: string): CacheManagerCache {
  const manager = createCache({ stores: [createKeyv(redisUrl(), { namespace })] });
  managers.push(manager);
  return manager;
}

describe('record interop with cache-manager 7 + @keyv/redis on a shared Redis and namespace', () => {
  it.each(JSON_VALUES)('a %s written by this cache is read by cache-manager as that value', async (_label, value) => {
    const namespace = uniquePrefix('interop-out');
    await (await ours(namespace)).set('k', value, { ttl: 60_000 });
    const manager = cacheManager(namespace);
    expect(await manager.get('k')).toStrictEqual(value);
    const expires = (await manager.ttl('k')) as number;
    expect(expires).toBeGreaterThan(Date.now() + 30_000);
    expect(expires).toBeLessThanOrEqual(Date.now() + 60_000);
  });

  it.each(JSON_VALUES)('a %s written by cache-manager is a hit here, with its TTL', async (_label, value) => {
    const namespace = uniquePrefix('interop-in');
    await cacheManager(namespace).set('k', value, 90_000);
    const cache = await ours(namespace);
    const loader = vi.fn<() => string>(() => 'loaded');
    expect(await cache.wrap('k', loader)).toStrictEqual(value);
    expect(loader).not.toHaveBeenCalled();
    expect(cache.stats()).toMatchObject({ hits: { l2: 1 }, l2Errors: 0 });
  });

  it('a Buffer written by cache-manager comes back as a Buffer', async () => {
    const namespace = uniquePrefix('interop-buffer');
    await cacheManager(namespace).set('b', Buffer.from('hi'), 60_000);
    expect(await (await ours(namespace)).get('b')).toStrictEqual(Buffer.from('hi'));
  });

  it('deletes go both ways', async () => {
    const namespace = uniquePrefix('interop-del');
    const cache = await ours(namespace);
    const manager = cacheManager(namespace);
    await cache.set('a', 1);
    await cache.del('a');
    expect(await manager.get('a')).toBeUndefined();
    await manager.set('b', 2, 60_000);
    expect(await cache.get('b')).toBe(2);
    await manager.del('b');
    await cache.del('unrelated');
    expect(await (await ours(namespace)).get('b')).toBeUndefined();
  });

  it('richer types keep full fidelity between instances of this cache; cache-manager sees their tagged JSON', async () => {
    const namespace = uniquePrefix('interop-rich');
    const value = {
      at: new Date(1_700_000_000_000),
      big: 12n,
      map: new Map([['a', 1]]),
      set: new Set(['x']),
      bytes: Buffer.from('hi'),
      missing: undefined,
      $dollar: 'key',
    };
    await (await ours(namespace)).set('rich', value, { ttl: 60_000 });
    expect(await (await ours(namespace)).get('rich')).toStrictEqual(value);
    expect(await cacheManager(namespace).get('rich')).toStrictEqual({
      at: { $D: 1_700_000_000_000 },
      big: { $b: '12' },
      map: { $M: [['a', 1]] },
      set: { $S: ['x'] },
      bytes: { $B: 'aGk=' },
      missing: { $u: 0 },
      $$dollar: 'key',
    });
  });

  it('a record in the format of earlier versions ({"expires","value":{"v",…}}) is still a hit, with its types', async () => {
    const namespace = uniquePrefix('interop-old');
    const now = Date.now();
    const value = { at: new Date(now), n: 5n };
    const raw = await createClient({ url: redisUrl() }).connect();
    try {
      const old = `{"expires":${now + 60_000},"value":{"v":${encodeValue(value)},"f":${now + 60_000},"a":${now}}}`;
      await raw.set(`${namespace}::old`, old, { expiration: { type: 'PX', value: 60_000 } });
    } finally {
      raw.destroy();
    }
    const cache = await ours(namespace);
    expect(await cache.wrap('old', () => 'loaded')).toStrictEqual(value);
    expect(cache.stats()).toMatchObject({ hits: { l2: 1 }, loaderCalls: 0, l2Errors: 0 });
  });

  it('a cache-manager read deletes a record past its TTL that our fail-safe still kept', async () => {
    const namespace = uniquePrefix('interop-failsafe');
    const cache = await ours(namespace);
    await cache.wrap('k', () => 'v', { ttl: 100, failSafeMaxMs: 60_000 });
    await sleep(250);
    const raw = await createClient({ url: redisUrl() }).connect();
    try {
      expect(await raw.exists(`${namespace}::k`)).toBe(1); // kept as the last known value
      expect(await cacheManager(namespace).get('k')).toBeUndefined();
      expect(await raw.exists(`${namespace}::k`)).toBe(0); // Keyv deleted it on reading
    } finally {
      raw.destroy();
    }
  });

  it('tags starting with ":" survive the escaping of our own records, with and without an escaped value', async () => {
    const namespace = uniquePrefix('interop-tags');
    const writer = await ours(namespace);
    await writer.set('t', 'tagged', { tags: [':a', 'b'] });
    await writer.set('u', ':tagged', { tags: [':a', 'b'] });
    const reader = await ours(namespace);
    expect(await reader.wrap('t', () => 'loaded', { tags: [':a', 'b'] })).toBe('tagged');
    expect(await reader.wrap('u', () => 'loaded', { tags: [':a', 'b'] })).toBe(':tagged');
    await writer.invalidateTags([':a']);
    const later = await ours(namespace);
    expect(await later.wrap('t', () => 'loaded', { tags: [':a', 'b'] })).toBe('loaded');
    expect(await later.wrap('u', () => 'loaded', { tags: [':a', 'b'] })).toBe('loaded');
  });
});
