import { Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@keyv/redis';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { encodeValue } from './codec/value-codec.js';
import { CachePeer } from './fixtures/cache-peer.driver.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

// Foreign or malformed data in the shared Redis: the cache answers (from the loader if needed) and never throws.

const open: TestingModule[] = [];
const peers: CachePeer[] = [];
let raw: ReturnType<typeof createClient>;

beforeAll(async () => {
  raw = createClient({ url: redisUrl() });
  await raw.connect();
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await Promise.all(peers.splice(0).map((p) => p.stop()));
});
afterAll(() => {
  raw.destroy();
});

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

async function within(check: () => Promise<boolean> | boolean, timeoutMs: number, stepMs = 5): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (await check()) return;
    await sleep(stepMs);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

/** Settles with 'timer' if `work` has not settled after `ms`. */
function before<T>(work: Promise<T>, ms: number): Promise<T | 'timer'> {
  let timer: NodeJS.Timeout | undefined;
  const fired = new Promise<'timer'>((resolve) => (timer = setTimeout(() => resolve('timer'), ms)));
  return Promise.race([work, fired]).finally(() => clearTimeout(timer));
}

const BAD_BUS_MESSAGES = [
  'null',
  '{"o":"x","t":5}',
  '{"o":"x","k":7}',
  '[1,2]',
  '"text"',
  '{"o":"x","k":[1]}',
  '{"o":"x","f":{}}',
  'not json',
];

describe('hostile bus messages (defect 10)', () => {
  it('defect 10: malformed messages on <ns>:bus are ignored and counted; a later write still invalidates the other instance', async () => {
    const namespace = uniquePrefix('bus');
    const [a, b] = [
      await start({ namespace, l2: { url: redisUrl() } }),
      await start({ namespace, l2: { url: redisUrl() } }),
    ];
    await a.set('k', 'v1');
    await within(() => b.stats().bus.received >= 1, 2_000);
    expect(await b.get('k')).toBe('v1');
    expect(b.peek('k')?.value).toBe('v1');
    for (const message of BAD_BUS_MESSAGES) await raw.publish(`${namespace}:bus`, message);
    await within(() => b.stats().bus.ignored >= BAD_BUS_MESSAGES.length, 2_000);
    await a.set('k', 'v2');
    await within(() => b.peek('k') === undefined, 2_000);
    expect(await b.get('k')).toBe('v2');
    expect(b.stats().bus.connected).toBe(true);
  });

  it('defect 10: a subscription that silently stops delivering is replaced, and invalidations flow again', async () => {
    const namespace = uniquePrefix('busdead');
    const [a, b] = [
      await start({ namespace, l2: { url: redisUrl() } }),
      await start({ namespace, l2: { url: redisUrl() } }),
    ];
    // What a corrupted reply decoder looks like from outside: the connection is ready, nothing is delivered.
    const subscriber = (b as unknown as { bus: { subscriber: { unsubscribe(channel: string): Promise<void> } } }).bus
      .subscriber;
    await subscriber.unsubscribe(`${namespace}:bus`);
    await within(() => !b.stats().bus.connected, 6_000, 20);
    await within(() => b.stats().bus.connected, 10_000, 20);
    await a.set('k', 'v1');
    await within(async () => (await b.get('k')) === 'v1', 2_000);
    expect(b.peek('k')?.value).toBe('v1');
    await a.set('k', 'v2');
    await within(() => b.peek('k') === undefined, 2_000);
    expect(await b.get('k')).toBe('v2');
  }, 30_000);

  it('defect 10: a message from another protocol version is ignored and counted, not applied', async () => {
    const namespace = uniquePrefix('busv');
    const b = await start({ namespace, l2: { url: redisUrl() } });
    await b.set('k', 'v1');
    await raw.publish(`${namespace}:bus`, JSON.stringify({ v: 99, o: 'other', k: ['k'], x: { new: 'shape' } }));
    await within(() => b.stats().bus.ignored >= 1, 2_000);
    expect(b.peek('k')?.value).toBe('v1');
    expect(b.stats().bus.received).toBe(0);
  });

  it('defect 10: across processes, bad messages published by a raw client do not stop a write here from clearing a peer’s L1', async () => {
    const namespace = uniquePrefix('busmp');
    const peer = await CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace });
    peers.push(peer);
    const a = await start({ namespace, l2: { url: redisUrl() } });
    await peer.send('prime', { key: 'k' });
    for (const message of BAD_BUS_MESSAGES) await raw.publish(`${namespace}:bus`, message);
    await a.set('k', 'after-garbage');
    // Well inside the 3 s after which missing probes would mark the bus dead and shorten L1 anyway.
    await peer.waitFor((e) => e.event === 'cleared' && e.key === 'k', 2_000);
    expect(await peer.send('get', { key: 'k' })).toBe('after-garbage');
    const stats = await peer.send<{ bus: { connected: boolean; ignored: number } }>('stats');
    expect(stats.bus.connected).toBe(true);
    expect(stats.bus.ignored).toBe(BAD_BUS_MESSAGES.length);
  }, 60_000);
});

/** A record as a foreign writer (or an attacker) would put it under our namespace. */
function record(envelope: string, expires: number | null = null): string {
  return `{"expires":${expires === null ? 'null' : expires},"value":${envelope}}`;
}

describe('hostile L2 records (defect 21)', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('rec');
  });

  it('defect 21: a record claiming freshness until 9e15 is not served past the reader’s TTL', async () => {
    const cache = await start({ namespace, ttl: 100, l2: { url: redisUrl() } });
    await raw.set(`${namespace}::forever`, record(`{"v":${encodeValue('forever')},"f":9000000000000000}`));
    let calls = 0;
    const loader = async () => `loaded ${++calls}`;
    const first = await cache.wrap('forever', loader);
    await sleep(250);
    const later = await cache.wrap('forever', loader);
    // However the first read was answered, the 9e15 claim cannot keep the record fresh 250 ms later (TTL 100).
    expect(later).not.toBe('forever');
    expect(calls).toBeGreaterThanOrEqual(1);
    expect([first, later]).toContain('loaded 1');
    expect(await cache.get('forever')).toMatch(/^loaded/);
  });

  it('defect 21: a well-formed record fresh for 10 min is fresh for at most the reader’s TTL after it was written', async () => {
    const cache = await start({ namespace, ttl: 100, l2: { url: redisUrl() } });
    const now = Date.now();
    await raw.set(
      `${namespace}::long`,
      record(`{"v":${encodeValue('long')},"f":${now + 600_000},"a":${now}}`, now + 600_000),
    );
    expect(await cache.wrap('long', async () => 'loaded')).toBe('long');
    await sleep(250);
    expect(await cache.wrap('long', async () => 'loaded')).toBe('loaded');
  });

  it.each([
    ['negative f', `{"v":${encodeValue('x')},"f":-5}`],
    ['NaN as a string', `{"v":${encodeValue('x')},"f":"NaN"}`],
    ['f missing', `{"v":${encodeValue('x')}}`],
    ['tags not an array', `{"v":${encodeValue('x')},"f":${9e12},"t":"red","n":["a:0"]}`],
    ['versions not matching tags', `{"v":${encodeValue('x')},"f":${9e12},"t":["red"],"n":[]}`],
    ['s before f', `{"v":${encodeValue('x')},"f":${9e12},"s":5}`],
    ['value missing', `{"f":${9e12}}`],
    ['a string', '"just a string"'],
  ])('defect 21 (hostile record, %s): a miss that the loader answers and overwrites', async (_label, envelope) => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await raw.set(`${namespace}::bad`, record(envelope, Date.now() + 60_000));
    expect(await cache.get('bad')).toBeUndefined();
    expect(await cache.wrap('bad', async () => 'loaded')).toBe('loaded');
    const other = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    await within(async () => (await other.get('bad')) === 'loaded', 2_000);
    expect(cache.stats().l2Errors).toBeGreaterThanOrEqual(1);
  });

  it('defect 21: a record whose value is not of our codec is a miss, and the loader’s value replaces it', async () => {
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    await raw.set(`${namespace}::junk`, 'not json {');
    await raw.hSet(`${namespace}::hash`, 'a', '1');
    expect(await cache.wrap('junk', async () => 'loaded')).toBe('loaded');
    expect(await cache.wrap('hash', async () => 'loaded-too')).toBe('loaded-too');
    const other = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    await within(async () => (await other.get('junk')) === 'loaded', 2_000);
  });
});

describe('hostile data is logged once per kind', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('the same malformed bus message and the same malformed record, many times: counted each time, logged once', async () => {
    const namespace = uniquePrefix('once');
    const cache = await start({ namespace, l2: { url: redisUrl() } });
    const warn = vi.spyOn(Logger.prototype, 'warn');
    for (let i = 0; i < 5; i++) await raw.publish(`${namespace}:bus`, '{"o":"x","k":7}');
    await within(() => cache.stats().bus.ignored >= 5, 2_000);
    for (let i = 0; i < 5; i++) {
      await raw.set(`${namespace}::r${i}`, record(`{"v":${encodeValue('x')},"f":-5}`));
      expect(await cache.get(`r${i}`)).toBeUndefined();
    }
    expect(cache.stats().l2Errors).toBe(5);
    const messages = warn.mock.calls.map(([message]) => String(message));
    expect(messages.filter((m) => m.includes(`${namespace}:bus`))).toHaveLength(1);
    expect(messages.filter((m) => m.includes('is not a record this cache can trust'))).toHaveLength(1);
  });
});

describe('hostile lease keys (defect 21)', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('lease');
  });

  it.each([
    ['without expiry', async (key: string) => void (await raw.set(key, 'someone:1'))],
    ['with a garbage value', async (key: string) => void (await raw.set(key, '\u0000garbage', { PX: 60_000 }))],
    ['of another type', async (key: string) => void (await raw.hSet(key, 'x', '1'))],
  ])(
    'defect 21: a foreign lease key %s is treated as expired: the miss loads without waiting lease.waitMs',
    async (_label, plant) => {
      const cache = await start({ namespace, l2: { url: redisUrl() }, lease: { waitMs: 5_000 } });
      const leaseKey = `${namespace}:lease:k`;
      await plant(leaseKey);
      let calls = 0;
      const answer = await before(
        cache.wrap('k', async () => `loaded ${++calls}`, { lease: true }),
        2_500,
      );
      expect(answer).toBe('loaded 1');
      // Taken over and released: the foreign key is gone.
      expect(await raw.exists(leaseKey)).toBe(0);
    },
  );
});

describe('hostile tag-version keys', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('tagv');
  });

  it('a tag counter holding garbage still lets invalidateTags invalidate, on every instance', async () => {
    const [a, b] = [
      await start({ namespace, l2: { url: redisUrl() } }),
      await start({ namespace, l2: { url: redisUrl() } }),
    ];
    await raw.set(`{${namespace}}:tag:red`, 'garbage');
    await a.set('k', 'v1', { tags: ['red'] });
    expect(await b.get('k')).toBe('v1');
    await a.invalidateTags(['red']);
    await within(() => b.peek('k') === undefined, 2_000);
    expect(await b.get('k')).toBeUndefined();
    const fresh = await start({ namespace, l1: false, l2: { url: redisUrl() } });
    expect(await fresh.get('k')).toBeUndefined();
  });

  it('a tag epoch key of the wrong type does not keep tagged entries out of Redis for good', async () => {
    const [a, b] = [
      await start({ namespace, l2: { url: redisUrl() } }),
      await start({ namespace, l1: false, l2: { url: redisUrl() } }),
    ];
    await raw.hSet(`{${namespace}}:tags-epoch`, 'x', '1');
    await a.set('k', 'v1', { tags: ['red'] });
    expect(await b.get('k')).toBe('v1');
    await a.invalidateTags(['red']);
    expect(await b.get('k')).toBeUndefined();
  });
});
