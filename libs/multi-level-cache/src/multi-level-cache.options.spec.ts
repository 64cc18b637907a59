import { Test } from '@nestjs/testing';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { resolveOptions } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const typo = () => resolveOptions({ tll: 5_000 } as never);

describe('MultiLevelCacheModule options: unknown keys', () => {
  it('fail naming the key, with the nearest known one when it looks like a typo', () => {
    expect(typo).toThrow(InvalidCacheOptionsError);
    expect(typo).toThrow(/MultiLevelCacheModule has no option `tll`: did you mean `ttl`\? Known options: name, /);
    expect(() => resolveOptions({ softTimeout: 50 } as never)).toThrow(/did you mean `softTimeoutMs`\?/);
    expect(() => resolveOptions({ redisUrl: 'redis://x' } as never)).toThrow(/no option `redisUrl`\. Known options:/);
  });

  it('accept every known key', () => {
    expect(() =>
      resolveOptions({
        name: 'users',
        namespace: 'users',
        ttl: 1_000,
        l1: { maxEntries: 10 },
        l2: false,
        nullTtl: 1_000,
        jitter: 0.1,
        grace: 1_000,
        failSafeMaxMs: 1_000,
        softTimeoutMs: 50,
        refreshAhead: 0.5,
        isGlobal: true,
      } as never),
    ).not.toThrow();
  });
});

/** The `InvalidCacheOptionsError` `resolveOptions` throws for `options` (the test fails when it throws another). */
function rejection(options: unknown): InvalidCacheOptionsError {
  const resolve = () => resolveOptions(options as MultiLevelCacheModuleOptions);
  expect(resolve).toThrow(InvalidCacheOptionsError);
  try {
    resolve();
  } catch (error) {
    return error as InvalidCacheOptionsError;
  }
  throw new Error('unreachable: the options were accepted');
}

const IGNORED = /Fix its name or remove it \(a misspelled key would otherwise be ignored\)\.$/;

describe('MultiLevelCacheModule options: unknown keys inside nested options', () => {
  it('`l1`: names the path, the key, the nearest known key and the known keys', () => {
    const error = rejection({ l1: { maxEntrys: 10 } });
    expect(error.option).toBe('l1.maxEntrys');
    expect(error.message).toMatch(
      /^`l1` has no key "maxEntrys": did you mean "maxEntries"\? Known keys: maxEntries, maxSizeBytes, ttl, offlineTtl\. /,
    );
    expect(error.message).toMatch(IGNORED);
  });

  it('`l2` (with a url or a store)', () => {
    const error = rejection({ l2: { url: 'redis://127.0.0.1:6379', timeout: 50 } });
    expect(error.option).toBe('l2.timeout');
    expect(error.message).toMatch(/^`l2` has no key "timeout": did you mean "timeoutMs"\? Known keys: url, cluster, /);
    expect(error.message).toMatch(IGNORED);
    const store = { get: () => undefined, set: () => true, delete: () => true };
    expect(rejection({ l2: { store, buss: false } }).message).toMatch(/^`l2` has no key "buss": did you mean "bus"\?/);
  });

  it('`l2.cluster[i]` seeds (a key other than host and port would be dropped from the seed URL)', () => {
    const seeds = [
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', Port: 7000 },
    ];
    const error = rejection({ l2: { cluster: seeds } });
    expect(error.option).toBe('l2.cluster[1].Port');
    expect(error.message).toMatch(
      /^`l2\.cluster\[1\]` has no key "Port": did you mean "port"\? Known keys: host, port\./,
    );
    expect(error.message).toMatch(IGNORED);
    const withPassword = rejection({ l2: { cluster: [{ host: '10.0.0.1', port: 7000, password: 'secret' }] } });
    expect(withPassword.message).toMatch(/^`l2\.cluster\[0\]` has no key "password"\. Known keys: host, port\./);
  });

  it('`lease`, which must also be an object (`lease: true` was ignored)', () => {
    const error = rejection({ lease: { ttl: 1_000 } });
    expect(error.option).toBe('lease.ttl');
    expect(error.message).toMatch(
      /^`lease` has no key "ttl": did you mean "ttlMs"\? Known keys: ttlMs, waitMs, pollMs\./,
    );
    expect(error.message).toMatch(IGNORED);
    expect(rejection({ lease: true }).option).toBe('lease');
    expect(rejection({ l1: [] }).option).toBe('l1');
  });

  it('fails the boot of a named cache registered with forRootAsync', async () => {
    const compiling = Test.createTestingModule({
      imports: [
        MultiLevelCacheModule.forRootAsync({
          name: 'users',
          useFactory: () => Promise.resolve({ l2: false, l1: { offlineTTL: 500 } } as never),
        }),
      ],
    }).compile();
    await expect(compiling).rejects.toThrow(InvalidCacheOptionsError);
    await expect(compiling).rejects.toThrow(/`l1` has no key "offlineTTL": did you mean "offlineTtl"\?/);
  });

  it('accepts every nested key, and never looks inside a store, a cluster seed URL or inherited keys', () => {
    class SqliteLike {
      readonly opts = { uri: 'sqlite://cache.sqlite', table: 'keyv' };
      namespace = 'app';
      get = () => undefined;
      set = () => true;
      delete = () => true;
    }
    const l1 = Object.assign(Object.create({ inherited: true }) as object, {
      maxEntries: 100,
      maxSizeBytes: 1_000_000,
      ttl: 5_000,
      offlineTtl: 500,
    });
    const lease = { ttlMs: 1_000, waitMs: 1_000, pollMs: 20 };
    const timers = { timeoutMs: 40, breakerThreshold: 3, breakerHalfOpenAfterMs: 500, connectTimeoutMs: 1_000 };
    const cluster = resolveOptions({
      l1,
      l2: { cluster: [{ host: '10.0.0.1', port: 7000 }, 'redis://:pw@10.0.0.2:7001'], ...timers, bus: true },
      lease,
    });
    expect(cluster.l1).toEqual({ maxEntries: 100, maxSizeBytes: 1_000_000, ttl: 5_000, offlineTtl: 500 });
    expect(cluster.l2?.cluster).toEqual(['redis://10.0.0.1:7000', 'redis://:pw@10.0.0.2:7001']);
    expect(cluster.lease).toEqual(lease);
    const store = new SqliteLike();
    expect(resolveOptions({ l2: { store, ...timers, bus: false }, lease }).l2?.store).toBe(store);
  });

  it('a module with every nested object filled boots against Redis and caches', async () => {
    const mod = await Test.createTestingModule({
      imports: [
        MultiLevelCacheModule.forRoot({
          namespace: uniquePrefix('options-full'),
          l1: { maxEntries: 100, maxSizeBytes: 1_000_000, ttl: 5_000, offlineTtl: 500 },
          l2: {
            url: redisUrl(),
            timeoutMs: 200,
            breakerThreshold: 3,
            breakerHalfOpenAfterMs: 500,
            connectTimeoutMs: 2_000,
            bus: true,
          },
          lease: { ttlMs: 1_000, waitMs: 1_000, pollMs: 20 },
        }),
      ],
    }).compile();
    await mod.init();
    try {
      const cache = mod.get(MultiLevelCache);
      expect(await cache.wrap('k', () => 'loaded', { lease: true })).toBe('loaded');
      expect(await cache.get('k')).toBe('loaded');
      expect(cache.stats().bus.enabled).toBe(true);
    } finally {
      await mod.close();
    }
  });
});
