import { Test } from '@nestjs/testing';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { RedisServer, uniquePrefix } from '../../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from '../interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { MultiLevelCacheHealthIndicator } from './multi-level-cache.health-indicator.js';

async function boot(options: MultiLevelCacheModuleOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [TerminusModule.forRoot({ logger: false }), MultiLevelCacheModule.forRoot(options)],
    providers: [MultiLevelCacheHealthIndicator],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    health: app.get(HealthCheckService),
    indicator: app.get(MultiLevelCacheHealthIndicator),
    cache: app.get(MultiLevelCache),
  };
}

describe('MultiLevelCacheHealthIndicator with @nestjs/terminus', () => {
  it('is up with L1 only', async () => {
    const { app, health, indicator } = await boot({ namespace: uniquePrefix('health'), ttl: 1_000, l2: false });
    try {
      const result = await health.check([() => indicator.isHealthy()]);
      expect(result.status).toBe('ok');
      expect(result.details.cache).toMatchObject({ status: 'up', l2: 'off', bus: 'off' });
    } finally {
      await app.close();
    }
  });

  it('is degraded, never down, while its Redis is gone, and up again once it is back', async () => {
    const redis = await RedisServer.start();
    const { app, health, indicator, cache } = await boot({
      namespace: uniquePrefix('health'),
      ttl: 60_000,
      l2: { url: redis.url, timeoutMs: 100 },
    });
    try {
      await vi.waitFor(
        () => expect(indicator.isHealthy().cache).toMatchObject({ status: 'up', l2: 'connected', bus: 'live' }),
        {
          timeout: 10_000,
        },
      );
      await redis.kill();
      await vi.waitFor(
        async () => {
          await cache.wrap(`k${Math.random()}`, async () => 1);
          expect(indicator.isHealthy().cache.status).toBe('degraded');
        },
        { timeout: 10_000, interval: 100 },
      );
      const result = await health.check([() => indicator.isHealthy()]);
      expect(result.status).toBe('degraded');
      await redis.restart();
      await vi.waitFor(
        async () => {
          await cache.wrap(`k${Math.random()}`, async () => 1);
          expect(indicator.isHealthy().cache).toMatchObject({ status: 'up', bus: 'live' });
        },
        { timeout: 20_000, interval: 200 },
      );
    } finally {
      await app.close();
      await redis.stop();
    }
  });
});
