import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { CachePeer } from './fixtures/cache-peer.driver.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const open: TestingModule[] = [];
const peers: CachePeer[] = [];

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});

const sourceDown = async (): Promise<string> => {
  throw new Error('source down');
};

/** TTL short enough to pass in a test; fail-safe window long enough that "still inside it" has a wide margin. */
const TTL = 100;
const FAIL_SAFE = 2_500;

describe('fail-safe (issue 13 item 6)', () => {
  it('Redis killed AND loader failing: the last value answers stale for failSafeMaxMs, then the error', async () => {
    const server = await RedisServer.start();
    try {
      const cache = await start({
        namespace: uniquePrefix('fs-kill'),
        ttl: TTL,
        failSafeMaxMs: FAIL_SAFE,
        l2: { url: server.url, timeoutMs: 50 },
      });
      const written = performance.now();
      expect(await cache.wrap('k', async () => 'v1')).toBe('v1');
      await server.kill();
      await sleep(TTL + 100);

      // Past its TTL, Redis gone (the bus gap cut L1 to offlineTtl), the source failing: the last value answers.
      expect(await cache.wrap('k', sourceDown)).toBe('v1');
      expect(await cache.wrapWithOutcome('k', sourceDown)).toEqual({ value: 'v1', outcome: 'stale' });
      const stats = cache.stats();
      expect(stats.failSafeHits).toBe(2);
      expect(stats.loaderErrors).toBe(2);

      // Past the fail-safe window: the loader's error again.
      await sleep(Math.max(0, written + TTL + FAIL_SAFE + 300 - performance.now()));
      await expect(cache.wrap('k', sourceDown)).rejects.toThrow('source down');
      expect(cache.stats().failSafeHits).toBe(2);
    } finally {
      await server.stop();
    }
  });

  it('keeps the record in Redis past its TTL for failSafeMaxMs; another instance with an empty L1 answers it', async () => {
    const namespace = uniquePrefix('fs-l2');
    const writer = await start({ namespace, ttl: TTL, failSafeMaxMs: FAIL_SAFE, l2: { url: redisUrl() } });
    await writer.wrap('k', async () => ({ at: new Date(7) }));
    const raw = createClient({ url: redisUrl() });
    await raw.connect();
    try {
      const pttl = await raw.pTTL(`${namespace}::k`);
      expect(pttl).toBeGreaterThan(FAIL_SAFE);
      expect(pttl).toBeLessThanOrEqual(TTL + FAIL_SAFE);
      // Keyv's own `expires` stays the TTL: cache-manager sees the entry expire on time.
      const record = JSON.parse((await raw.get(`${namespace}::k`)) as string) as { expires: number };
      expect(record.expires).toBeLessThanOrEqual(Date.now() + TTL);
    } finally {
      raw.destroy();
    }
    await sleep(TTL + 100);
    const reader = await start({ namespace, ttl: TTL, failSafeMaxMs: FAIL_SAFE, l1: false, l2: { url: redisUrl() } });
    expect(await reader.get('k')).toBeUndefined();
    expect(await reader.wrapWithOutcome('k', sourceDown)).toEqual({ value: { at: new Date(7) }, outcome: 'stale' });
    // A working loader replaces the kept record (compare-and-set over it, not SET NX).
    expect(await reader.wrap('k', async () => 'v2')).toBe('v2');
    expect(await reader.get('k')).toBe('v2');
  });

  it('a del before the failure: the deleted value is not answered (Redis up, and Redis down)', async () => {
    const up = await start({
      namespace: uniquePrefix('fs-del'),
      ttl: TTL,
      failSafeMaxMs: FAIL_SAFE,
      l2: { url: redisUrl() },
    });
    await up.wrap('k', async () => 'v1');
    await up.del('k');
    await sleep(TTL + 50);
    await expect(up.wrap('k', sourceDown)).rejects.toThrow('source down');

    const server = await RedisServer.start();
    try {
      const down = await start({
        namespace: uniquePrefix('fs-del-down'),
        ttl: TTL,
        failSafeMaxMs: FAIL_SAFE,
        l2: { url: server.url, timeoutMs: 50 },
      });
      await down.wrap('k', async () => 'v1');
      await server.kill();
      await down.del('k');
      await sleep(TTL + 50);
      await expect(down.wrap('k', sourceDown)).rejects.toThrow('source down');
      expect(down.stats().failSafeHits).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it('a set or a tag invalidation before the failure: the replaced or invalidated value is not answered', async () => {
    const cache = await start({
      namespace: uniquePrefix('fs-set'),
      ttl: TTL,
      failSafeMaxMs: FAIL_SAFE,
      l2: { url: redisUrl() },
    });
    await cache.wrap('k', async () => 'v1');
    await cache.set('k', 'v2');
    await cache.wrap('tagged', async () => 'old', { tags: ['t'] });
    await cache.invalidateTags(['t']);
    await sleep(TTL + 50);
    expect(await cache.wrap('k', sourceDown)).toBe('v2');
    await expect(cache.wrap('tagged', sourceDown, { tags: ['t'] })).rejects.toThrow('source down');
  });

  it('cross-process: a del on another instance (over the bus) stops this one answering its L1 copy', async () => {
    const namespace = uniquePrefix('fs-peer');
    const peer = await CachePeer.start({
      REDIS_URL: redisUrl(),
      NAMESPACE: namespace,
      FAIL_SAFE_MS: String(FAIL_SAFE),
    });
    peers.push(peer);
    const cache = await start({ namespace, ttl: TTL, failSafeMaxMs: FAIL_SAFE, l2: { url: redisUrl() } });
    await cache.wrap('gone', async () => 'v1');
    await cache.wrap('kept', async () => 'v1');
    await peer.send('del', { key: 'gone' });
    // Barrier: once this instance saw a message published after the del, it has applied the del too.
    await until(async () => (await cache.get('gone')) === undefined, 5_000);
    await sleep(TTL + 50);
    await expect(cache.wrap('gone', sourceDown)).rejects.toThrow('source down');
    expect(await cache.wrap('kept', sourceDown)).toBe('v1');
    // The other process, which never held it in L1, answers the kept record from Redis as stale.
    expect(await peer.send('failing', { key: 'kept' })).toEqual({ value: 'v1', outcome: 'stale' });
    await expect(peer.send('failing', { key: 'gone' })).rejects.toThrow('source down');
  });

  it('soft timeout: past softTimeoutMs the last value answers, the load finishes in the background and fills the cache', async () => {
    const cache = await start({
      namespace: uniquePrefix('fs-soft'),
      ttl: TTL,
      failSafeMaxMs: FAIL_SAFE,
      softTimeoutMs: 50,
      l2: { url: redisUrl() },
    });
    await cache.wrap('k', async () => 'v1');
    await sleep(TTL + 50);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow = async () => {
      calls++;
      await gate;
      return 'v2';
    };
    expect(await cache.wrapWithOutcome('k', slow)).toEqual({ value: 'v1', outcome: 'stale' });
    // A miss while the late load runs joins it (answering stale after its own soft timeout), no second loader call.
    expect(await cache.wrap('k', slow)).toBe('v1');
    expect(calls).toBe(1);
    release();
    expect(await until(async () => (await cache.get('k')) === 'v2', 5_000)).toBe(true);
    expect(await cache.wrapWithOutcome('k', slow)).toEqual({ value: 'v2', outcome: 'hit' });
    expect(calls).toBe(1);
  });

  it('soft timeout under a lease: the holder keeps the lease until its late load has written; others wait for it', async () => {
    const namespace = uniquePrefix('fs-lease');
    const options = { namespace, ttl: TTL, failSafeMaxMs: FAIL_SAFE, softTimeoutMs: 50, l2: { url: redisUrl() } };
    const holder = await start(options);
    const other = await start({ ...options, l1: false, failSafeMaxMs: 0 });
    await holder.wrap('k', async () => 'v1', { lease: true });
    await sleep(TTL + 50);
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let calls = 0;
    const slow = async () => {
      calls++;
      await gate;
      return 'v2';
    };
    expect(await holder.wrapWithOutcome('k', slow, { lease: true })).toEqual({ value: 'v1', outcome: 'stale' });
    // The other instance has no last known value: it waits for the lease holder instead of loading itself.
    const waiting = other.wrap('k', slow, { lease: true });
    await sleep(100);
    expect(calls).toBe(1);
    release();
    expect(await waiting).toBe('v2');
    expect(calls).toBe(1);
  });

  it('without a last known value the soft timeout does not cut the load; failSafeMaxMs 0 per call turns it off', async () => {
    const cache = await start({
      namespace: uniquePrefix('fs-none'),
      ttl: TTL,
      failSafeMaxMs: FAIL_SAFE,
      softTimeoutMs: 20,
      l2: { url: redisUrl() },
    });
    expect(
      await cache.wrapWithOutcome('cold', async () => {
        await sleep(100);
        return 'loaded';
      }),
    ).toEqual({ value: 'loaded', outcome: 'miss' });
    await cache.wrap('k', async () => 'v1');
    await sleep(TTL + 50);
    await expect(cache.wrap('k', sourceDown, { failSafeMaxMs: 0 })).rejects.toThrow('source down');
    expect(await cache.wrap('k', sourceDown)).toBe('v1');
  });

  it('rejects bad failSafeMaxMs / softTimeoutMs / refreshAhead at boot and per call, naming the option', async () => {
    await expect(start({ failSafeMaxMs: -1 })).rejects.toThrow(InvalidCacheOptionsError);
    await expect(start({ softTimeoutMs: 2_147_483_648 })).rejects.toThrow(/`softTimeoutMs` must be an integer/);
    await expect(start({ refreshAhead: 1 })).rejects.toThrow(/`refreshAhead` must be a fraction/);
    const cache = await start({});
    await expect(cache.wrap('k', async () => 1, { failSafeMaxMs: 1.5 })).rejects.toThrow(/`failSafeMaxMs`/);
    await expect(cache.wrap('k', async () => 1, { softTimeoutMs: 0 })).rejects.toThrow(/`softTimeoutMs`/);
    await expect(cache.wrap('k', async () => 1, { refreshAhead: Number.NaN })).rejects.toThrow(/got NaN/);
  });
});

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}
