// The nestjs/nest sample `sample/20-cache`, moved onto nest-scale by changing the import path of CacheModule,
// CacheInterceptor, CacheKey, CacheTTL and CACHE_MANAGER: a slow source, an interceptor-cached controller (the
// default key and a custom one), and a service with CACHE_MANAGER injected. The proof is in handler and source run
// counts, never in timings; on Express and Fastify, with L1 only and with Redis.
import { Controller, Get, Inject, Injectable, Module, UseInterceptors, type INestApplication } from '@nestjs/common';
import { CACHE_MANAGER as NEST_CACHE_MANAGER } from '@nestjs/cache-manager';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { NestFactory } from '@nestjs/core';
import {
  CACHE_MANAGER,
  Cache,
  CacheInterceptor,
  CacheKey,
  CacheModule,
  CacheTTL,
  MultiLevelCache,
  type CacheModuleOptions,
} from '@nest-scale/multi-level-cache';
import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from './harness/index.js';

/** The slow source the sample's data stands for: it counts its calls. */
@Injectable()
class SlowSource {
  calls = 0;

  async cats(): Promise<{ id: number; name: string }[]> {
    this.calls++;
    await new Promise((resolve) => setTimeout(resolve, 20));
    return [{ id: 1, name: 'Nest' }];
  }
}

/** Code written for @nestjs/cache-manager, unchanged: CACHE_MANAGER from that package, cache-manager's call style. */
@Injectable()
class CatsService {
  constructor(
    @Inject(NEST_CACHE_MANAGER) private readonly cache: Cache,
    private readonly source: SlowSource,
  ) {}

  async findAll(): Promise<{ id: number; name: string }[]> {
    const cached = await this.cache.get<{ id: number; name: string }[]>('cats');
    if (cached) return cached;
    const cats = await this.source.cats();
    await this.cache.set('cats', cats, 10_000);
    return cats;
  }
}

@Controller()
@UseInterceptors(CacheInterceptor)
class AppController {
  runs = { findAll: 0, custom: 0 };

  constructor(private readonly source: SlowSource) {}

  @Get()
  async findAll() {
    this.runs.findAll++;
    return this.source.cats();
  }

  @Get('custom')
  @CacheKey('custom_key')
  @CacheTTL(20_000)
  async custom() {
    this.runs.custom++;
    return this.source.cats();
  }
}

@Controller('service')
class ServiceController {
  constructor(private readonly cats: CatsService) {}

  @Get('cats')
  findAll() {
    return this.cats.findAll();
  }
}

async function get(url: string): Promise<{ status: number; body: unknown; cache: string | null }> {
  const res = await fetch(url);
  return { status: res.status, body: await res.json(), cache: res.headers.get('x-cache') };
}

const platforms = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;
const tiers = [
  ['L1 only', (): CacheModuleOptions => ({ l2: false })],
  ['L1 + Redis', (): CacheModuleOptions => ({ l2: { url: redisUrl() } })],
] as const;

describe.each(platforms)('sample 20-cache on nest-scale, %s', (_platform, adapter) => {
  describe.each(tiers)('%s', (tierName, tier) => {
    const open: INestApplication[] = [];
    let namespace: string;

    beforeEach(() => {
      namespace = uniquePrefix('cache-migration');
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((app) => app.close()));
    });

    async function start(): Promise<{ app: INestApplication; url: string }> {
      @Module({
        imports: [CacheModule.register({ namespace, ttl: 5_000, ...tier() })],
        controllers: [AppController, ServiceController],
        providers: [SlowSource, CatsService],
      })
      class AppModule {}
      const app = await NestFactory.create(AppModule, adapter(), { logger: false });
      open.push(app);
      await app.listen(0, '127.0.0.1');
      return { app, url: (await app.getUrl()).replace('[::1]', '127.0.0.1') };
    }

    it('the interceptor-cached route runs its handler once for two requests', async () => {
      const { app, url } = await start();
      const first = await get(`${url}/`);
      const second = await get(`${url}/`);
      expect(first).toStrictEqual({ status: 200, body: [{ id: 1, name: 'Nest' }], cache: 'MISS' });
      expect(second).toStrictEqual({ ...first, cache: 'HIT' });
      expect(app.get(AppController).runs.findAll).toBe(1);
      expect(app.get(SlowSource).calls).toBe(1);
    });

    it('the route with a custom key is cached under that key, with its @CacheTTL', async () => {
      const { app, url } = await start();
      await get(`${url}/custom`);
      const second = await get(`${url}/custom`);
      expect(second.cache).toBe('HIT');
      expect(app.get(AppController).runs.custom).toBe(1);
      const cache = app.get<Cache>(CACHE_MANAGER);
      const expires = (await cache.ttl('custom_key')) as number;
      expect(expires).toBeGreaterThan(Date.now() + 10_000);
      expect(expires).toBeLessThanOrEqual(Date.now() + 20_000 + 5);
      // Invalidation by the custom key, as code written for @nestjs/cache-manager does it.
      await cache.del('custom_key');
      await get(`${url}/custom`);
      expect(app.get(AppController).runs.custom).toBe(2);
    });

    it('a service with CACHE_MANAGER injected reads the slow source once', async () => {
      const { app, url } = await start();
      await get(`${url}/service/cats`);
      const second = await get(`${url}/service/cats`);
      expect(second.body).toStrictEqual([{ id: 1, name: 'Nest' }]);
      expect(app.get(SlowSource).calls).toBe(1);
      expect(await app.get(MultiLevelCache).get('cats')).toStrictEqual([{ id: 1, name: 'Nest' }]);
    });

    if (tierName === 'L1 + Redis') {
      it('a second instance on the same Redis serves both cached routes without running a handler', async () => {
        const a = await start();
        await get(`${a.url}/`);
        await get(`${a.url}/service/cats`);
        // A miss answers before its Redis write lands (the write is not part of the request's latency).
        const redis = new Redis(redisUrl());
        try {
          await vi.waitFor(async () => expect(await redis.exists(`${namespace}::GET /`)).toBe(1));
        } finally {
          redis.disconnect();
        }
        const b = await start();
        const fromB = await get(`${b.url}/`);
        await get(`${b.url}/service/cats`);
        expect(fromB.cache).toBe('HIT');
        expect(b.app.get(AppController).runs.findAll).toBe(0);
        expect(b.app.get(SlowSource).calls).toBe(0);
        expect(b.app.get(MultiLevelCache).stats().hits.l2).toBe(2);
      });
    }
  });
});
