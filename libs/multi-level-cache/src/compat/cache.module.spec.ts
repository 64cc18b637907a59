import {
  Controller,
  Get,
  Inject,
  Injectable,
  Module,
  UseInterceptors,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import {
  CACHE_MANAGER as NEST_CACHE_MANAGER,
  CacheInterceptor as NestCacheInterceptor,
  CacheKey as NestCacheKey,
  CacheTTL as NestCacheTTL,
} from '@nestjs/cache-manager';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { InvalidCacheOptionsError } from '../errors/invalid-cache-options.error.js';
import { CacheInterceptor } from '../http/cache.interceptor.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { CACHE_MANAGER } from './cache-manager.constants.js';
import { Cache } from './cache-manager.facade.js';
import type { CacheModuleOptions, CacheOptionsFactory } from './cache-module-options.interface.js';
import { CacheModule } from './cache.module.js';

let handlerRuns = 0;

@Injectable()
class Consumers {
  constructor(
    @Inject(CACHE_MANAGER) readonly ours: Cache,
    @Inject(NEST_CACHE_MANAGER) readonly theirs: Cache,
    readonly byClass: Cache,
  ) {}
}

/** `@nestjs/cache-manager`'s own interceptor and decorators, unchanged, on top of our CACHE_MANAGER. */
@Controller('nest')
@UseInterceptors(NestCacheInterceptor)
class NestInterceptedController {
  @Get('items')
  @NestCacheTTL(300_000)
  items() {
    return { run: ++handlerRuns };
  }

  @Get('keyed')
  @NestCacheKey('nest-keyed')
  keyed() {
    return { run: ++handlerRuns };
  }
}

/** The sample's pattern: a subclass of the interceptor that keys by URL through `httpAdapterHost`. */
@Injectable()
class HttpCacheInterceptor extends CacheInterceptor {
  protected override trackBy(context: ExecutionContext): string | undefined {
    const httpAdapter = this.httpAdapterHost?.httpAdapter;
    const req = context.switchToHttp().getRequest<unknown>();
    if (!httpAdapter || httpAdapter.getRequestMethod(req) !== 'GET') return undefined;
    return `url:${httpAdapter.getRequestUrl(req)}`;
  }
}

@Controller('sample')
@UseInterceptors(HttpCacheInterceptor)
class SampleController {
  @Get()
  findAll() {
    return [{ id: 1, name: 'Nest', run: ++handlerRuns }];
  }
}

const open: INestApplication[] = [];
afterEach(async () => {
  handlerRuns = 0;
  await Promise.all(open.splice(0).map((app) => app.close()));
});

describe('CacheModule (drop-in for @nestjs/cache-manager)', () => {
  it('CACHE_MANAGER has the same token value as @nestjs/cache-manager’s', () => {
    expect(CACHE_MANAGER).toBe(NEST_CACHE_MANAGER);
  });

  it('CACHE_MANAGER from either package and the Cache class token inject the same facade', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.register({ namespace: uniquePrefix('cm-module') })],
      providers: [Consumers],
    }).compile();
    const consumers = moduleRef.get(Consumers);
    expect(consumers.ours).toBeInstanceOf(Cache);
    expect(consumers.theirs).toBe(consumers.ours);
    expect(consumers.byClass).toBe(consumers.ours);
    await consumers.ours.set('k', 1);
    expect(await moduleRef.get(MultiLevelCache).get('k')).toBe(1);
    await moduleRef.close();
  });

  it('isGlobal: a feature module that does not import it gets CACHE_MANAGER', async () => {
    @Module({ providers: [Consumers], exports: [Consumers] })
    class FeatureModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.register({ isGlobal: true, namespace: uniquePrefix('cm-global') }), FeatureModule],
    }).compile();
    expect(moduleRef.get(Consumers).ours).toBeInstanceOf(Cache);
    await moduleRef.close();
  });

  it('registerAsync with useFactory and inject (from imports), and with useClass', async () => {
    const ttlToken = 'CACHE_TTL_SETTING';
    @Module({ providers: [{ provide: ttlToken, useValue: 123_000 }], exports: [ttlToken] })
    class SettingsModule {}
    const byFactory = await Test.createTestingModule({
      imports: [
        CacheModule.registerAsync({
          imports: [SettingsModule],
          inject: [ttlToken],
          useFactory: (ttl: number) => ({ ttl, namespace: uniquePrefix('cm-async') }),
        }),
      ],
    }).compile();
    await byFactory.init();
    const cache = byFactory.get<Cache>(CACHE_MANAGER);
    await cache.set('k', 1);
    expect(await cache.ttl('k')).toBeGreaterThan(Date.now() + 100_000);
    expect(await cache.ttl('k')).toBeLessThanOrEqual(Date.now() + 123_000 + 5);
    await byFactory.close();

    @Injectable()
    class Options implements CacheOptionsFactory {
      createCacheOptions(): CacheModuleOptions {
        return { cacheId: 'from-class', namespace: uniquePrefix('cm-class') };
      }
    }
    const byClass = await Test.createTestingModule({
      imports: [CacheModule.registerAsync({ useClass: Options })],
    }).compile();
    expect(byClass.get<Cache>(CACHE_MANAGER).cacheId()).toBe('from-class');
    await byClass.close();
  });

  it.each([
    [{ stores: [{}] }, /`stores` must be left out.*l2: \{ url/],
    [{ nonBlocking: true }, /`nonBlocking` must be left out/],
    [{ ttl: -1 }, /`ttl` must be an integer number of milliseconds from 0/],
    [{ refreshThreshold: 'soon' }, /`refreshThreshold` must be/],
  ])('rejects bad options at register time, naming the option: %j', (options, message) => {
    const register = () => CacheModule.register(options as CacheModuleOptions);
    expect(register).toThrow(InvalidCacheOptionsError);
    expect(register).toThrow(message);
  });

  it('the multi-level cache’s own options are validated at boot, naming the option', async () => {
    const boot = Test.createTestingModule({ imports: [CacheModule.register({ l1: { maxEntries: 0 } })] }).compile();
    await expect(boot).rejects.toThrow(/`l1\.maxEntries` must be an integer ≥ 1/);
  });

  it('registerAsync without a factory, class or existing provider fails naming what is missing', () => {
    expect(() => CacheModule.registerAsync({})).toThrow(/useFactory, useClass or useExisting/);
  });
});

const platforms = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;

describe.each(platforms)('CacheModule over HTTP on %s with Redis', (platform, adapter) => {
  async function start(namespace: string): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [CacheModule.register({ namespace, l2: { url: redisUrl() } })],
      controllers: [NestInterceptedController, SampleController],
    }).compile();
    const app = moduleRef.createNestApplication(adapter(), { logger: false });
    open.push(app);
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    return app;
  }

  it('@nestjs/cache-manager’s CacheInterceptor works unchanged on CACHE_MANAGER, and its @CacheTTL is honoured', async () => {
    const namespace = uniquePrefix(`cm-nest-${platform}`);
    const app = await start(namespace);
    const server = app.getHttpServer();
    // That interceptor stores the answer after sending it (its `set` is not awaited): wait for the write.
    const stored = (key: string) =>
      new Promise<void>((resolve) =>
        app.get<Cache>(CACHE_MANAGER).on('set', (data: { key: string }) => data.key === key && resolve()),
      );
    const itemsStored = stored('/nest/items');
    const first = await request(server).get('/nest/items').expect(200, { run: 1 });
    await itemsStored;
    const second = await request(server).get('/nest/items').expect(200, { run: 1 });
    expect([first.headers['x-cache'], second.headers['x-cache']]).toStrictEqual(['MISS', 'HIT']);
    const keyedStored = stored('nest-keyed');
    await request(server).get('/nest/keyed').expect(200, { run: 2 });
    await keyedStored;
    await request(server).get('/nest/keyed').expect(200, { run: 2 });
    expect(handlerRuns).toBe(2);
    const redis = new Redis(redisUrl());
    try {
      // The interceptor stores after answering: wait for the records to land.
      await vi.waitFor(async () =>
        expect(await redis.exists(`${namespace}::/nest/items`, `${namespace}::nest-keyed`)).toBe(2),
      );
      const ttl = await redis.pttl(`${namespace}::/nest/items`);
      expect(ttl).toBeGreaterThan(200_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
    } finally {
      redis.disconnect();
    }
  });

  it('a subclass of CacheInterceptor overriding trackBy (the sample’s pattern) caches by its key', async () => {
    const app = await start(uniquePrefix(`cm-sample-${platform}`));
    const server = app.getHttpServer();
    await request(server)
      .get('/sample')
      .expect(200, [{ id: 1, name: 'Nest', run: 1 }]);
    const second = await request(server)
      .get('/sample')
      .expect(200, [{ id: 1, name: 'Nest', run: 1 }]);
    expect(second.headers['x-cache']).toBe('HIT');
    expect(await app.get(MultiLevelCache).get('url:/sample')).toMatchObject({ body: [{ run: 1 }] });
  });
});
