import { Test, type TestingModule } from '@nestjs/testing';
import { KeyvSqlite } from '@keyv/sqlite';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { uniquePrefix } from '../../../test/harness/index.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const open: TestingModule[] = [];
const stores: KeyvSqlite[] = [];
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'nest-scale-keyv-'));
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await Promise.all(stores.splice(0).map((s) => s.disconnect()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

const sourceDown = async (): Promise<string> => {
  throw new Error('source down');
};

async function until(check: () => Promise<boolean>, timeoutMs = 5_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(10);
  }
  return false;
}

/** A SQLite file shared by the instances of a test, each with its own connection (as two processes would). */
function sqlite(file: string): KeyvSqlite {
  const store = new KeyvSqlite(`sqlite://${join(dir, file)}`);
  stores.push(store);
  return store;
}

describe('any Keyv store as L2: @keyv/sqlite (issue 13 item 3)', () => {
  it('instances sharing a SQLite store share entries with their types; TTL, del and tags hold', async () => {
    const namespace = uniquePrefix('sqlite');
    const file = `${namespace}.sqlite`;
    const a = await start({ namespace, ttl: 60_000, l2: { store: sqlite(file) } });
    const b = await start({ namespace, ttl: 60_000, l1: false, l2: { store: sqlite(file) } });
    const value = { at: new Date(5), ids: new Set([1, 2]), big: 2n ** 70n };
    await a.set('typed', value);
    expect(await b.get('typed')).toStrictEqual(value);
    expect(b.stats().hits.l2).toBe(1);

    await a.set('short', 'x', { ttl: 50 });
    await sleep(100);
    expect(await b.get('short')).toBeUndefined();

    await a.del('typed');
    expect(await b.get('typed')).toBeUndefined();

    await a.set('tagged', 'v', { tags: ['t'] });
    expect(await b.get('tagged')).toBe('v');
    await b.invalidateTags(['t']);
    expect(await b.get('tagged')).toBeUndefined();
    let loads = 0;
    expect(await b.wrap('tagged', async () => `v${++loads}`, { tags: ['t'] })).toBe('v1');
    // The fill is written in the background: once it landed, the next miss reads it instead of loading.
    expect(await until(async () => (await b.get('tagged')) === 'v1')).toBe(true);
    expect(await b.wrap('tagged', async () => `v${++loads}`, { tags: ['t'] })).toBe('v1');
    expect(loads).toBe(1);
    expect(b.stats().bus.enabled).toBe(false);
  });

  it('wrap loads once per instance and fills the store for the others; fail-safe answers a kept record', async () => {
    const namespace = uniquePrefix('sqlite-wrap');
    const file = `${namespace}.sqlite`;
    const a = await start({ namespace, ttl: 100, failSafeMaxMs: 5_000, l2: { store: sqlite(file) } });
    const b = await start({ namespace, ttl: 100, failSafeMaxMs: 5_000, l1: false, l2: { store: sqlite(file) } });
    let loads = 0;
    const loader = async () => `v${++loads}`;
    expect(await Promise.all([a.wrap('k', loader), a.wrap('k', loader)])).toEqual(['v1', 'v1']);
    expect(await until(async () => (await b.get('k')) === 'v1')).toBe(true);
    expect(await b.wrap('k', loader)).toBe('v1');
    expect(loads).toBe(1);
    await sleep(150);
    expect(await b.wrapWithOutcome('k', sourceDown)).toEqual({ value: 'v1', outcome: 'stale' });
  });

  it('without a bus, another instance L1 copy lives until its l1.ttl (the documented bound)', async () => {
    const namespace = uniquePrefix('sqlite-l1');
    const file = `${namespace}.sqlite`;
    const a = await start({ namespace, l2: { store: sqlite(file) } });
    const b = await start({ namespace, l1: { ttl: 100 }, l2: { store: sqlite(file) } });
    await a.set('k', 'old');
    expect(await b.get('k')).toBe('old');
    await a.set('k', 'new');
    expect(await b.get('k')).toBe('old');
    await sleep(150);
    expect(await b.get('k')).toBe('new');
  });

  it('a store that hangs or throws is bounded by l2.timeoutMs and fails open, like Redis', async () => {
    const hanging = {
      get: () => new Promise(() => undefined),
      set: () => new Promise(() => undefined),
      delete: () => new Promise(() => undefined),
    };
    const cache = await start({
      namespace: uniquePrefix('hang'),
      l2: { store: hanging, timeoutMs: 50, breakerThreshold: 2 },
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'hung'>((resolve) => (timer = setTimeout(() => resolve('hung'), 2_000)));
    const answer = await Promise.race([cache.wrap('k', async () => 'loaded'), deadline]);
    clearTimeout(timer);
    expect(answer).toBe('loaded');
    await cache.set('x', 1);
    expect(await cache.get('x')).toBe(1);
    expect(cache.stats().l2Errors).toBeGreaterThan(0);
    expect(cache.stats().breaker).toBe('open');

    const throwing = await start({
      namespace: uniquePrefix('throw'),
      l1: false,
      l2: {
        store: {
          get: () => Promise.reject(new Error('disk full')),
          set: () => Promise.reject(new Error('disk full')),
          delete: () => Promise.reject(new Error('disk full')),
        },
      },
    });
    expect(await throwing.wrap('k', async () => 'loaded')).toBe('loaded');
    await expect(throwing.del('k')).resolves.toBeUndefined();
  });

  it('rejects a store that is not one, a store beside a url, and the bus with a store', async () => {
    const store = sqlite('options.sqlite');
    await expect(start({ l2: { store: {} as never } })).rejects.toThrow(/`l2.store` must be a Keyv store adapter/);
    await expect(start({ l2: { store, url: 'redis://127.0.0.1:1' } })).rejects.toThrow(InvalidCacheOptionsError);
    await expect(start({ l2: { store, bus: true } })).rejects.toThrow(/`l2.bus` must be false or left out/);
  });
});
