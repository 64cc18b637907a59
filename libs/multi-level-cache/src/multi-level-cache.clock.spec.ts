import { Test, type TestingModule } from '@nestjs/testing';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { RedisServer, redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

// Wall-clock steps (NTP corrections, a VM resumed) must not change any duration the cache measures: only Date is
// faked here, timers and performance.now() run on.

const open: TestingModule[] = [];
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function start(options: MultiLevelCacheModuleOptions): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({ imports: [MultiLevelCacheModule.forRoot(options)] }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

async function within(check: () => boolean, timeoutMs: number): Promise<void> {
  const t0 = performance.now();
  while (performance.now() - t0 < timeoutMs) {
    if (check()) return;
    await sleep(20);
  }
  throw new Error(`condition not met within ${timeoutMs} ms`);
}

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

describe('wall-clock steps (defect 20)', () => {
  it('defect 20: a 10 s forward step of the wall clock with Redis healthy keeps the bus live and L1 intact', async () => {
    const cache = await start({ namespace: uniquePrefix('clock'), l2: { url: redisUrl() } });
    await cache.set('k', 'v', { ttl: 60_000 });
    await cache.set('g', 'grace', { ttl: 60_000, grace: 60_000 });
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now() + 10_000);
    // Two heartbeats (1 s apart) with the stepped clock.
    await sleep(2_200);
    expect(cache.stats().bus.connected).toBe(true);
    expect(cache.peek('k')?.value).toBe('v');
    expect(cache.peek('g')?.value).toBe('grace');
  });

  it('defect 20: a 1 h backward step with Redis hung still marks the bus lost and cuts L1 to offlineTtl', async () => {
    const server = await RedisServer.start();
    const pid = await redisPid(server.port);
    try {
      const cache = await start({
        namespace: uniquePrefix('clockback'),
        l1: { offlineTtl: 300 },
        l2: { url: server.url, timeoutMs: 50 },
      });
      await cache.set('k', 'v', { ttl: 60_000 });
      vi.useFakeTimers({ toFake: ['Date'] });
      vi.setSystemTime(Date.now() - 3_600_000);
      process.kill(pid, 'SIGSTOP');
      await within(() => !cache.stats().bus.connected, 6_000);
      await sleep(400);
      expect(cache.peek('k')).toBeUndefined();
    } finally {
      process.kill(pid, 'SIGCONT');
      vi.useRealTimers();
      await Promise.all(open.splice(0).map((m) => m.close()));
      await server.stop();
    }
  });
});
