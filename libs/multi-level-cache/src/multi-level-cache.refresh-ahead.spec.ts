import { Test, type TestingModule } from '@nestjs/testing';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { CachePeer } from './fixtures/cache-peer.driver.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import type { MultiLevelCacheStats } from './interfaces/cache-stats.interface.js';
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

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(20);
  }
  return false;
}

describe('eager refresh, refreshAhead (issue 13 item 7)', () => {
  it('two processes read a hot key past the refresh point together: one loader call refreshes it for both', async () => {
    const env = {
      REDIS_URL: redisUrl(),
      NAMESPACE: uniquePrefix('eager'),
      TTL_MS: '4000',
      REFRESH_AHEAD: '0.4',
      LOAD_MS: '100',
    };
    const [a, b] = await Promise.all([CachePeer.start(env), CachePeer.start(env)]);
    peers.push(a, b);
    const [first] = await a.send<string[]>('item', { key: 'hot' });
    expect(await b.send<string[]>('item', { key: 'hot' })).toEqual([first]);
    // Past 40 % of the 4 s TTL, far from its end.
    await sleep(2_000);
    const [fromA, fromB] = await Promise.all([
      a.send<string[]>('item', { key: 'hot', n: 50 }),
      b.send<string[]>('item', { key: 'hot', n: 50 }),
    ]);
    // Hits answer the value they hold while the refresh runs in the background.
    expect(fromA).toEqual([first]);
    expect(fromB).toEqual([first]);
    const refreshed = async (peer: CachePeer) => (await peer.send<string[]>('item', { key: 'hot' }))[0] !== first;
    expect(await until(async () => (await refreshed(a)) && (await refreshed(b)), 1_500)).toBe(true);
    const stats = await Promise.all([a, b].map((p) => p.send<MultiLevelCacheStats & { loads: number }>('stats')));
    expect(stats[0].loads + stats[1].loads).toBe(2);
    expect(stats[0].eagerRefreshes + stats[1].eagerRefreshes).toBe(1);
    // Both answer the same refreshed value.
    const [[va], [vb]] = await Promise.all([a, b].map((p) => p.send<string[]>('item', { key: 'hot' })));
    expect(va).toBe(vb);
  });

  it('a refresh that finds a newer value in Redis (written by another instance) uses it instead of loading', async () => {
    const namespace = uniquePrefix('eager-l2');
    const options = { namespace, ttl: 2_000, refreshAhead: 0.5, l2: { url: redisUrl(), bus: false } };
    const a = await start(options);
    const b = await start(options);
    let loads = 0;
    const loader = async () => `v${++loads}`;
    expect(await a.wrap('k', loader)).toBe('v1');
    expect(await b.wrap('k', loader)).toBe('v1');
    await sleep(1_100);
    // Without the bus, b keeps its old L1 copy after a refreshes: b's own refresh must read Redis first.
    expect(await a.wrap('k', loader)).toBe('v1');
    expect(await until(async () => (await a.get('k')) === 'v2', 1_000)).toBe(true);
    expect(await b.wrap('k', loader)).toBe('v1');
    expect(await until(async () => (await b.get('k')) === 'v2', 1_000)).toBe(true);
    expect(loads).toBe(2);
    expect(a.stats().eagerRefreshes + b.stats().eagerRefreshes).toBe(1);
  });

  it('L1 only: refreshes once in the background, keeps the value when the refresh fails, off by default', async () => {
    const cache = await start({ namespace: uniquePrefix('eager-l1'), ttl: 1_000, refreshAhead: 0.3 });
    let loads = 0;
    let failing = false;
    const loader = async () => {
      loads++;
      if (failing) throw new Error('source down');
      return `v${loads}`;
    };
    expect(await cache.wrap('k', loader)).toBe('v1');
    expect(await cache.wrap('k', loader)).toBe('v1');
    expect(loads).toBe(1);
    await sleep(400);
    expect(await Promise.all([cache.wrap('k', loader), cache.wrap('k', loader)])).toEqual(['v1', 'v1']);
    expect(await until(async () => (await cache.get('k')) === 'v2', 500)).toBe(true);
    expect(loads).toBe(2);

    failing = true;
    await sleep(400);
    expect(await cache.wrap('k', loader)).toBe('v2');
    await until(async () => loads === 3, 500);
    expect(await cache.wrap('k', loader)).toBe('v2');
    expect(loads).toBe(3);

    const plain = await start({ namespace: uniquePrefix('eager-off'), ttl: 1_000 });
    let plainLoads = 0;
    await plain.wrap('k', async () => ++plainLoads);
    await sleep(400);
    await plain.wrap('k', async () => ++plainLoads);
    await sleep(50);
    expect(plainLoads).toBe(1);
    expect(plain.stats().eagerRefreshes).toBe(0);
  });
});
