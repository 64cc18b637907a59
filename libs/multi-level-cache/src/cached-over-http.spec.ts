import {
  Controller,
  Get,
  Module,
  Param,
  Post,
  Query,
  Req,
  Res,
  ValidationPipe,
  type INestApplication,
  type LoggerService,
} from '@nestjs/common';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Type } from 'class-transformer';
import { IsInt, IsString } from 'class-validator';
import request from 'supertest';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { cachedMethodKey } from './codec/cached-method-key.js';
import { CacheEvict } from './decorators/cache-evict.decorator.js';
import { CacheableClass } from './decorators/cacheable-class.decorator.js';
import { Cached } from './decorators/cached.decorator.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

class SearchQuery {
  @IsString()
  q!: string;

  @Type(() => Number)
  @IsInt()
  page!: number;
}

@CacheableClass({ name: 'http-spec.Product' })
class Product {
  id!: string;
  price!: number;
  get label(): string {
    return `${this.id} at ${this.price}`;
  }
}

/** Not registered: caching must not turn its 200 into a 500. */
class LegacyEntity {
  constructor(readonly id: string) {}
}

/** The first load of a key waits here until the test opens it, so concurrent requests overlap for sure. */
let gate: Promise<void> = Promise.resolve();

@Controller()
class ItemsController {
  runs = 0;
  searches: unknown[] = [];

  @Get('items/:id')
  @Cached({ ttl: 60_000 })
  async item(@Param('id') id: string): Promise<{ id: string; run: number }> {
    const run = ++this.runs;
    await gate;
    return { id, run };
  }

  // Route decorator below @Cached: its metadata is on the original method and must reach the trampoline.
  @Cached()
  @Get('search')
  async search(@Query() query: SearchQuery): Promise<{ q: string; page: number; run: number }> {
    this.searches.push(query);
    return { q: query.q, page: query.page, run: ++this.runs };
  }

  @Get('with-req/:id')
  @Cached()
  async withReq(@Req() req: { url: string }, @Param('id') id: string): Promise<{ id: string; run: number }> {
    return { id: `${id}${req.url.length > 0 ? '' : '?'}`, run: ++this.runs };
  }

  @Get('with-res/:id')
  @Cached()
  async withRes(
    @Param('id') id: string,
    @Res() res: { status(code: number): { send(body: unknown): unknown } },
  ): Promise<void> {
    res.status(200).send({ id, run: ++this.runs });
  }

  @Post('items/:id/touch')
  @CacheEvict({ keys: (id: string) => [cachedMethodKey(ItemsController, 'item', [id])] })
  async touch(@Param('id') id: string): Promise<{ touched: string }> {
    return { touched: id };
  }

  @Get('products/:id')
  @Cached()
  async product(@Param('id') id: string): Promise<Product> {
    this.runs++;
    return Object.assign(new Product(), { id, price: 5 });
  }

  @Get('legacy/:id')
  @Cached()
  async legacy(@Param('id') id: string): Promise<LegacyEntity> {
    this.runs++;
    return new LegacyEntity(id);
  }
}

@Module({ controllers: [ItemsController] })
class HttpFeatureModule {}

const warnings: string[] = [];
const captureLogger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: unknown) => void warnings.push(String(message)),
};

const runs = (app: INestApplication) => app.get(ItemsController).runs;

const platforms = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;

const open: INestApplication[] = [];
afterEach(async () => {
  gate = Promise.resolve();
  await Promise.all(open.splice(0).map((app) => app.close()));
});
beforeEach(() => {
  warnings.length = 0;
});

describe.each(platforms)('@Cached over HTTP on %s', (platform, adapter) => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix(`http-${platform}`);
  });

  async function start(options: MultiLevelCacheModuleOptions = { l2: false }): Promise<INestApplication> {
    const moduleRef = await Test.createTestingModule({
      imports: [MultiLevelCacheModule.forRoot({ namespace, ...options }), HttpFeatureModule],
    })
      .setLogger(captureLogger)
      .compile();
    const app = moduleRef.createNestApplication(adapter());
    app.useGlobalPipes(new ValidationPipe({ transform: true }));
    open.push(app);
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    return app;
  }

  it('defect 19: two sequential requests run the handler once', async () => {
    const app = await start();
    const first = await request(app.getHttpServer()).get('/items/a').expect(200);
    const second = await request(app.getHttpServer()).get('/items/a').expect(200);
    expect(first.body).toStrictEqual({ id: 'a', run: 1 });
    expect(second.body).toStrictEqual(first.body);
    expect(runs(app)).toBe(1);
    expect(app.get(MultiLevelCache).stats().hits.l1).toBe(1);
  });

  it('defect 19: five concurrent requests run the handler once', async () => {
    const app = await start();
    const cache = app.get(MultiLevelCache);
    const lookups = vi.spyOn(cache, 'peekEntry');
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const server = app.getHttpServer();
    const responses = Array.from({ length: 5 }, () =>
      request(server)
        .get('/items/c')
        .then((r) => r),
    );
    try {
      // Every request has reached the cache (and found the load in flight) before the load may finish.
      await vi.waitFor(() => expect(lookups).toHaveBeenCalledTimes(5), { timeout: 10_000 });
    } finally {
      release();
    }
    const bodies = (await Promise.all(responses)).map((r) => [r.status, r.body] as const);
    expect(bodies).toStrictEqual(Array.from({ length: 5 }, () => [200, { id: 'c', run: 1 }]));
    expect(runs(app)).toBe(1);
  });

  it('defect 19: two different route params run the handler twice', async () => {
    const app = await start();
    await request(app.getHttpServer()).get('/items/x').expect(200, { id: 'x', run: 1 });
    await request(app.getHttpServer()).get('/items/y').expect(200, { id: 'y', run: 2 });
    await request(app.getHttpServer()).get('/items/x').expect(200, { id: 'x', run: 1 });
    expect(runs(app)).toBe(2);
  });

  it('defect 17/19: a ValidationPipe-transformed DTO keys by its data', async () => {
    const app = await start();
    const server = app.getHttpServer();
    await request(server).get('/search?q=shoes&page=2').expect(200, { q: 'shoes', page: 2, run: 1 });
    await request(server).get('/search?page=2&q=shoes').expect(200, { q: 'shoes', page: 2, run: 1 });
    await request(server).get('/search?q=shoes&page=3').expect(200, { q: 'shoes', page: 3, run: 2 });
    await request(server).get('/search?q=shoes&page=x').expect(400);
    const controller = app.get(ItemsController);
    expect(controller.runs).toBe(2);
    expect(controller.searches[0]).toBeInstanceOf(SearchQuery);
    expect(warnings).toStrictEqual([]);
  });

  it('defect 17/19: a route with @Req() answers every request, uncached, and warns once', async () => {
    const app = await start();
    const server = app.getHttpServer();
    await request(server).get('/with-req/1').expect(200, { id: '1', run: 1 });
    await request(server).get('/with-req/1').expect(200, { id: '1', run: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ItemsController\.withReq.*index 0.*key: \(\.\.\.args\)/);
  });

  it('defect 17/19: a route with @Res() answers every request, uncached', async () => {
    const app = await start();
    const server = app.getHttpServer();
    await request(server).get('/with-res/1').expect(200, { id: '1', run: 1 });
    await request(server).get('/with-res/1').expect(200, { id: '1', run: 2 });
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ItemsController\.withRes.*index 1/);
  });

  it('defect 19: @CacheEvict on a route evicts the cached route entry', async () => {
    const app = await start();
    const server = app.getHttpServer();
    await request(server).get('/items/e').expect(200, { id: 'e', run: 1 });
    await request(server).get('/items/e').expect(200, { id: 'e', run: 1 });
    await request(server).post('/items/e/touch').expect(201, { touched: 'e' });
    await request(server).get('/items/e').expect(200, { id: 'e', run: 2 });
    expect(runs(app)).toBe(2);
  });

  it('defect 18: a route returning an unregistered class instance answers 200 every time', async () => {
    const app = await start({ l2: { url: redisUrl() } });
    const server = app.getHttpServer();
    await request(server).get('/legacy/1').expect(200, { id: '1' });
    await request(server).get('/legacy/1').expect(200, { id: '1' });
    expect(runs(app)).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/ItemsController\.legacy.*LegacyEntity.*@CacheableClass/);
  });

  it('defect 18/19: a registered class comes back with its prototype on a second app reading Redis', async () => {
    const a = await start({ l2: { url: redisUrl() } });
    const b = await start({ l2: { url: redisUrl() } });
    await request(a.getHttpServer()).get('/products/p1').expect(200, { id: 'p1', price: 5 });
    await request(b.getHttpServer()).get('/products/p1').expect(200, { id: 'p1', price: 5 });
    expect(runs(a)).toBe(1);
    expect(runs(b)).toBe(0);
    const fromRedis = await b.get(ItemsController).product('p1');
    expect(fromRedis).toBeInstanceOf(Product);
    expect(fromRedis.label).toBe('p1 at 5');
    expect(b.get(MultiLevelCache).stats().hits.l2).toBe(1);
  });

  it('keeps two apps in one process on separate L1s over HTTP', async () => {
    const a = await start();
    const b = await start();
    await request(a.getHttpServer()).get('/items/s').expect(200, { id: 's', run: 1 });
    await request(b.getHttpServer()).get('/items/s').expect(200, { id: 's', run: 1 });
    expect(runs(a)).toBe(1);
    expect(runs(b)).toBe(1);
  });
});
