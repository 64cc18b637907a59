import { Test, type TestingModule } from '@nestjs/testing';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, uniquePrefix } from '../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const open: TestingModule[] = [];
const loader = async () => {
  await sleep(20);
  return 'loaded';
};
let server: RedisServer;

beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  await server.stop();
});

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

async function until(check: () => Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

/** The server's pid, from `INFO server` (the harness does not expose its child). */
function redisPid(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' });
    let text = '';
    socket.once('error', reject);
    socket.once('connect', () => socket.write('INFO server\r\n'));
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /process_id:(\d+)/.exec(text);
      if (match) {
        socket.destroy();
        resolve(Number(match[1]));
      }
    });
  });
}

describe('Redis outage (fail-open)', () => {
  it('bounds every call by the time budget when Redis hangs (SIGSTOP), then recovers (SIGCONT)', async () => {
    const hung = await RedisServer.start();
    const pid = await redisPid(hung.port);
    try {
      const cache = await start({
        namespace: uniquePrefix('hang'),
        l2: { url: hung.url, timeoutMs: 50, breakerHalfOpenAfterMs: 200, bus: false },
      });
      await cache.set('warm', 'w');
      process.kill(pid, 'SIGSTOP');
      expect((await timed(() => cache.get('warm'))).value).toBe('w');
      const started = performance.now();
      for (let i = 0; i < 10; i++) {
        const miss = await timed(() => cache.wrap(`cold:${i}`, async () => i));
        expect(miss.value).toBe(i);
        expect(miss.ms).toBeLessThan(500);
      }
      // Budget-bound at first, then the open breaker answers at once: far from the anchors' 40 s.
      expect(performance.now() - started).toBeLessThan(2_000);
      expect(cache.stats().breaker).toBe('open');
      process.kill(pid, 'SIGCONT');
      const reader = await start({
        namespace: uniquePrefix('hang-reader'),
        l1: false,
        l2: { url: hung.url, bus: false },
      });
      expect(await until(async () => (await reader.set('x', 1), (await reader.get('x')) === 1), 10_000)).toBe(true);
      expect(await until(async () => (await cache.set('y', 2), cache.stats().breaker === 'closed'), 10_000)).toBe(true);
    } finally {
      process.kill(pid, 'SIGCONT');
      await hung.stop();
    }
  });

  it('defect 16: a tagged lease miss with Redis hung spends one budget in all, not one per Redis step', async () => {
    const hung = await RedisServer.start();
    const pid = await redisPid(hung.port);
    try {
      const budget = 300;
      const cache = await start({
        namespace: uniquePrefix('budget'),
        l2: { url: hung.url, timeoutMs: budget, breakerThreshold: 1_000, bus: false },
      });
      process.kill(pid, 'SIGSTOP');
      const call = cache.wrap('cold', async () => 'loaded', { tags: ['t'], lease: true });
      // One budget is 300 ms; a second sequential Redis step could not finish before 600 ms.
      let timer: NodeJS.Timeout | undefined;
      const deadline = new Promise<'second step'>(
        (resolve) => (timer = setTimeout(() => resolve('second step'), 2 * budget)),
      );
      const answer = await Promise.race([call, deadline]);
      clearTimeout(timer);
      expect(answer).toBe('loaded');
      // The entry read and the tag-version read ran in parallel and timed out together; nothing ran after them.
      expect(cache.stats().l2Errors).toBe(2);
      await sleep(budget + 100);
      expect(cache.stats().l2Errors).toBe(2);
      const set = cache.set('other', 1, { tags: ['t'] });
      const setAnswer = await Promise.race([set.then(() => 'set'), sleep(2 * budget).then(() => 'second step')]);
      expect(setAnswer).toBe('set');
    } finally {
      process.kill(pid, 'SIGCONT');
      await hung.stop();
    }
  });

  it('keeps serving while Redis is killed, never throws or hangs, and uses L2 again after it returns', async () => {
    const namespace = uniquePrefix('outage');
    // Without the bus, an outage leaves L1 untouched (the coherence spec covers the bus's short offline TTL).
    const cache = await start({
      namespace,
      l2: { url: server.url, timeoutMs: 50, breakerHalfOpenAfterMs: 200, bus: false },
    });
    const before = { at: new Date(1), n: 1n };
    await cache.set('warm', before);

    await server.kill();

    // L1 hits are unaffected.
    const hit = await timed(() => cache.get('warm'));
    expect(hit.value).toBe(before);

    // A miss costs the loader plus at most the budget, many times over, and nothing throws.
    for (let i = 0; i < 20; i++) {
      const miss = await timed(() => cache.wrap(`cold:${i}`, loader));
      expect(miss.value).toBe('loaded');
      expect(miss.ms).toBeLessThan(1_000);
    }
    await expect(cache.set('while-down', 1)).resolves.toBeUndefined();
    await expect(cache.del('warm')).resolves.toBeUndefined();
    expect(await cache.get('while-down')).toBe(1);
    const stats = cache.stats();
    expect(stats.l2Errors).toBeGreaterThan(0);
    expect(stats.breaker).toBe('open');

    await server.restart();

    // L2 comes back by itself: a write becomes visible to an instance that has nothing in L1.
    const reader = await start({ namespace, l1: false, l2: { url: server.url, bus: false } });
    const recovered = await until(async () => {
      await cache.set('after', new Date(42));
      return (await reader.get('after')) instanceof Date;
    }, 10_000);
    expect(recovered).toBe(true);
    expect(cache.stats().breaker).toBe('closed');
  });

  it('boots without Redis within the connect budget and serves from the loader', async () => {
    const dead = await RedisServer.start();
    const url = dead.url;
    await dead.stop();
    const { value: cache, ms } = await timed(() =>
      start({ namespace: uniquePrefix('noredis'), l2: { url, connectTimeoutMs: 300 } }),
    );
    expect(ms).toBeLessThan(3_000);
    let calls = 0;
    const value = await cache.wrap('k', async () => ++calls);
    expect(value).toBe(1);
    expect(await cache.wrap('k', async () => ++calls)).toBe(1);
  });
});
