import {
  Controller,
  Get,
  Header,
  Headers,
  HttpCode,
  Injectable,
  Logger,
  Module,
  NotFoundException,
  Post,
  Query,
  Res,
  ServiceUnavailableException,
  UseInterceptors,
  type ExecutionContext,
  type INestApplication,
} from '@nestjs/common';
import { CacheKey as NestCacheKey, CacheTTL as NestCacheTTL } from '@nestjs/cache-manager';
import { APP_INTERCEPTOR } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { Redis } from 'ioredis';
import request from 'supertest';
import { RedisServer, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import type { MultiLevelCacheModuleOptions } from '../interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { CacheKey, CacheTTL, CacheVary } from './cache-route.decorators.js';
import { CacheInterceptor } from './cache.interceptor.js';

/** Each route counts its handler runs; an answer carries the run number, so a cached answer shows an old one. */
const runs = new Map<string, number>();
const run = (route: string) => {
  const n = (runs.get(route) ?? 0) + 1;
  runs.set(route, n);
  return n;
};

let upstreamDown = false;

/** The first load waits here until the test opens it, so concurrent requests overlap for sure. */
let gate: Promise<void> = Promise.resolve();

interface PassthroughResponse {
  status(code: number): unknown;
}

@Controller()
@UseInterceptors(CacheInterceptor)
class PagesController {
  @Get('page')
  async page(@Query() query: Record<string, string>) {
    await gate;
    // A copy: Fastify's query object has a prototype of its own, which the cache does not store.
    return { query: { ...query }, run: run('page') };
  }

  @Post('page')
  post() {
    return { run: run('post') };
  }

  @Get('accepted')
  @HttpCode(202)
  accepted() {
    return { run: run('accepted') };
  }

  @Get('missing')
  missing() {
    throw new NotFoundException(`run ${run('missing')}`);
  }

  @Get('cookie-setting')
  @Header('Set-Cookie', 'session=abc; HttpOnly')
  cookieSetting() {
    return { run: run('cookie-setting') };
  }

  @Get('private')
  @Header('Cache-Control', 'private, max-age=60')
  privateAnswer() {
    return { run: run('private') };
  }

  @Get('no-store')
  @Header('Cache-Control', 'no-store')
  noStore() {
    return { run: run('no-store') };
  }

  @Get('status-500')
  status500(@Res({ passthrough: true }) res: PassthroughResponse) {
    res.status(500);
    return { run: run('status-500') };
  }

  @Get('varies-undeclared')
  @Header('Vary', 'Accept-Language')
  variesUndeclared() {
    return { run: run('varies-undeclared') };
  }

  /** Answers per user, but does not declare it: requests with credentials must bypass the cache. */
  @Get('me')
  me(@Headers('authorization') auth?: string, @Headers('cookie') cookie?: string) {
    return { user: auth ?? cookie ?? 'anonymous', run: run('me') };
  }

  @Get('me-varied')
  @CacheVary('Authorization')
  meVaried(@Headers('authorization') auth?: string) {
    return { user: auth ?? 'anonymous', run: run('me-varied') };
  }

  @Get('me-by-cookie')
  @CacheVary('cookie')
  meByCookie(@Headers('cookie') cookie?: string) {
    return { user: cookie ?? 'anonymous', run: run('me-by-cookie') };
  }

  @Get('greeting')
  @CacheVary('accept-language')
  greeting(@Headers('accept-language') language?: string) {
    return { language: language ?? 'none', run: run('greeting') };
  }

  @Get('custom')
  @CacheKey('custom_key')
  custom(@Query('x') x?: string) {
    return { x, run: run('custom') };
  }

  @Get('long-ttl')
  @CacheTTL(300_000)
  longTtl() {
    return { run: run('long-ttl') };
  }

  @Get('nest-decorated')
  @NestCacheKey('nest_key')
  @NestCacheTTL(400_000)
  nestDecorated() {
    return { run: run('nest-decorated') };
  }

  /** Fails (503) while `upstreamDown` is set: the fail-safe answers the last known value. */
  @Get('flaky')
  @CacheTTL(1)
  flaky() {
    const n = run('flaky');
    if (upstreamDown) throw new ServiceUnavailableException('upstream down');
    return { run: n };
  }

  @Get('eager')
  @CacheTTL(60_000)
  eager() {
    return { run: run('eager') };
  }

  @Get('text')
  text() {
    return `plain ${run('text')}`;
  }

  @Get('unregistered-class')
  unregisteredClass() {
    return new (class Legacy {
      constructor(readonly n: number) {}
    })(run('unregistered-class'));
  }
}

/** A subclass whose key comes asynchronously (as a `trackBy` override may). */
@Injectable()
class AsyncKeyInterceptor extends CacheInterceptor {
  protected override async trackBy(context: ExecutionContext): Promise<string | undefined> {
    await Promise.resolve();
    return `async:${context.switchToHttp().getRequest<{ url: string }>().url}`;
  }
}

@Controller('async-key')
@UseInterceptors(AsyncKeyInterceptor)
class AsyncKeyController {
  @Get()
  @CacheVary('authorization')
  me(@Headers('authorization') auth?: string) {
    return { user: auth ?? 'anonymous', run: run('async-key') };
  }
}

@Controller('global')
class GlobalController {
  @Get()
  list() {
    return { run: run('global') };
  }
}

const platforms = [
  ['express', () => new ExpressAdapter()],
  ['fastify', () => new FastifyAdapter()],
] as const;

const open: INestApplication[] = [];
afterEach(async () => {
  gate = Promise.resolve();
  upstreamDown = false;
  runs.clear();
  await Promise.all(open.splice(0).map((app) => app.close()));
});

describe.each(platforms)('CacheInterceptor over HTTP on %s', (platform, adapter) => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix(`http-cache-${platform}`);
  });

  async function start(
    options: MultiLevelCacheModuleOptions = { l2: false },
    { global = false } = {},
  ): Promise<INestApplication> {
    @Module({
      imports: [MultiLevelCacheModule.forRoot({ namespace, ...options })],
      controllers: global ? [GlobalController] : [PagesController, AsyncKeyController],
      providers: global ? [{ provide: APP_INTERCEPTOR, useClass: CacheInterceptor }] : [],
    })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] }).compile();
    const app = moduleRef.createNestApplication(adapter(), { logger: false });
    open.push(app);
    await app.init();
    if (platform === 'fastify') await (app as NestFastifyApplication).getHttpAdapter().getInstance().ready();
    return app;
  }

  it('serves the second GET from the cache: X-Cache MISS then HIT, one handler run', async () => {
    const server = (await start()).getHttpServer();
    const first = await request(server).get('/page?a=1').expect(200);
    const second = await request(server).get('/page?a=1').expect(200);
    expect(first.body).toStrictEqual({ query: { a: '1' }, run: 1 });
    expect(second.body).toStrictEqual(first.body);
    expect([first.headers['x-cache'], second.headers['x-cache']]).toStrictEqual(['MISS', 'HIT']);
    expect(runs.get('page')).toBe(1);
  });

  it('keys on the query sorted by parameter name, keeping the order of repeated values', async () => {
    const server = (await start()).getHttpServer();
    await request(server).get('/page?a=1&b=2').expect(200);
    const swapped = await request(server).get('/page?b=2&a=1').expect(200);
    expect(swapped.headers['x-cache']).toBe('HIT');
    await request(server).get('/page?a=1').expect(200);
    await request(server).get('/page?a=2&a=1').expect(200);
    const list = await request(server).get('/page?a=1&a=2').expect(200);
    expect(list.headers['x-cache']).toBe('MISS');
    expect(runs.get('page')).toBe(4);
  });

  it('five concurrent cold requests run the handler once', async () => {
    const app = await start();
    const wraps = vi.spyOn(app.get(MultiLevelCache), 'wrapWithOutcome');
    let release!: () => void;
    gate = new Promise((resolve) => (release = resolve));
    const server = app.getHttpServer();
    const answers = Array.from({ length: 5 }, () =>
      request(server)
        .get('/page?c=1')
        .then((r) => r),
    );
    try {
      await vi.waitFor(() => expect(wraps).toHaveBeenCalledTimes(5), { timeout: 10_000 });
    } finally {
      release();
    }
    const bodies = (await Promise.all(answers)).map((r) => [r.status, r.body] as const);
    expect(bodies).toStrictEqual(Array.from({ length: 5 }, () => [200, { query: { c: '1' }, run: 1 }]));
    expect(runs.get('page')).toBe(1);
  });

  it('never caches a POST', async () => {
    const server = (await start()).getHttpServer();
    await request(server).post('/page').expect(201, { run: 1 });
    const second = await request(server).post('/page').expect(201, { run: 2 });
    expect(second.headers['x-cache']).toBeUndefined();
  });

  it('caches a 2xx other than 200 (@HttpCode(202)), never an error answer', async () => {
    const server = (await start()).getHttpServer();
    await request(server).get('/accepted').expect(202, { run: 1 });
    await request(server).get('/accepted').expect(202, { run: 1 });
    await request(server).get('/missing').expect(404);
    const again = await request(server).get('/missing').expect(404);
    expect(again.body.message).toBe('run 2');
    await request(server).get('/status-500').expect(500, { run: 1 });
    await request(server).get('/status-500').expect(500, { run: 2 });
  });

  it.each([
    ['/cookie-setting', 'sets a cookie'],
    ['/private', 'says Cache-Control: private'],
    ['/no-store', 'says Cache-Control: no-store'],
    ['/varies-undeclared', 'varies on a header the key does not hold'],
  ])('never stores an answer that %s', async (path) => {
    const server = (await start()).getHttpServer();
    await request(server).get(path).expect(200);
    const second = await request(server).get(path).expect(200);
    expect(second.body.run).toBe(2);
    expect(second.headers['x-cache']).toBeUndefined();
  });

  it('answers a result it cannot store (an unregistered class instance) every time, uncached, and warns once', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const server = (await start()).getHttpServer();
    await request(server).get('/unregistered-class').expect(200, { n: 1 });
    const second = await request(server).get('/unregistered-class').expect(200, { n: 2 });
    expect(second.headers['x-cache']).toBeUndefined();
    const warnings = warn.mock.calls.map(([message]) => String(message)).filter((m) => m.includes('CacheInterceptor'));
    warn.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/"GET \/unregistered-class" was sent uncached.*@CacheableClass/);
  });

  it('key leak: requests with Authorization or a cookie bypass a route that does not vary on them', async () => {
    const server = (await start()).getHttpServer();
    // An anonymous answer is cached first: no user may get it, and no user's answer may replace it.
    await request(server).get('/me').expect(200, { user: 'anonymous', run: 1 });
    const alice = await request(server).get('/me').set('Authorization', 'Bearer alice').expect(200);
    const bob = await request(server).get('/me').set('Authorization', 'Bearer bob').expect(200);
    const carol = await request(server).get('/me').set('Cookie', 'sid=carol').expect(200);
    const anonymous = await request(server).get('/me').expect(200);
    expect([alice.body, bob.body, carol.body, anonymous.body]).toStrictEqual([
      { user: 'Bearer alice', run: 2 },
      { user: 'Bearer bob', run: 3 },
      { user: 'sid=carol', run: 4 },
      { user: 'anonymous', run: 1 },
    ]);
    expect(alice.headers['x-cache']).toBeUndefined();
    expect(anonymous.headers['x-cache']).toBe('HIT');
  });

  it('key leak: on a route varying on Authorization, each user gets their own cached answer, never another user’s', async () => {
    const server = (await start()).getHttpServer();
    const as = async (auth?: string) => {
      const r = request(server).get('/me-varied');
      const res = await (auth ? r.set('Authorization', auth) : r);
      return [res.body, res.headers];
    };
    const [alice1] = await as('Bearer alice');
    const [bob1] = await as('Bearer bob');
    const [alice2, aliceHeaders] = await as('Bearer alice');
    const [bob2] = await as('Bearer bob');
    const [anonymous] = await as();
    expect([alice1, bob1, alice2, bob2, anonymous]).toStrictEqual([
      { user: 'Bearer alice', run: 1 },
      { user: 'Bearer bob', run: 2 },
      { user: 'Bearer alice', run: 1 },
      { user: 'Bearer bob', run: 2 },
      { user: 'anonymous', run: 3 },
    ]);
    expect(aliceHeaders['x-cache']).toBe('HIT');
    expect(String(aliceHeaders.vary).toLowerCase()).toContain('authorization');
  });

  it('key leak: on a route varying on the cookie, two sessions never see each other’s answer', async () => {
    const server = (await start()).getHttpServer();
    const as = (cookie: string) =>
      request(server)
        .get('/me-by-cookie')
        .set('Cookie', cookie)
        .expect(200)
        .then((r) => r.body);
    expect(await as('sid=1')).toStrictEqual({ user: 'sid=1', run: 1 });
    expect(await as('sid=2')).toStrictEqual({ user: 'sid=2', run: 2 });
    expect(await as('sid=1')).toStrictEqual({ user: 'sid=1', run: 1 });
    expect(await as('sid=2')).toStrictEqual({ user: 'sid=2', run: 2 });
  });

  it('key leak: a trackBy override that resolves asynchronously still gets the varied headers in its key', async () => {
    const app = await start();
    const server = app.getHttpServer();
    const as = async (auth: string) => (await request(server).get('/async-key').set('Authorization', auth)).body;
    expect(await as('Bearer alice')).toStrictEqual({ user: 'Bearer alice', run: 1 });
    expect(await as('Bearer bob')).toStrictEqual({ user: 'Bearer bob', run: 2 });
    expect(await as('Bearer alice')).toStrictEqual({ user: 'Bearer alice', run: 1 });
    expect(await app.get(MultiLevelCache).get('async:/async-key')).toBeUndefined();
  });

  it('keys on the headers a route varies on and says so in Vary', async () => {
    const server = (await start()).getHttpServer();
    const en = await request(server).get('/greeting').set('Accept-Language', 'en').expect(200);
    await request(server).get('/greeting').set('Accept-Language', 'fr').expect(200, { language: 'fr', run: 2 });
    const enAgain = await request(server).get('/greeting').set('Accept-Language', 'en').expect(200);
    expect(enAgain.body).toStrictEqual(en.body);
    expect(enAgain.headers['x-cache']).toBe('HIT');
    expect(enAgain.headers.vary).toMatch(/accept-language/i);
  });

  it('sends an ETag and answers If-None-Match with it by 304 without a body', async () => {
    const server = (await start()).getHttpServer();
    const first = await request(server).get('/page?e=1').expect(200);
    const etag = first.headers.etag;
    expect(etag).toMatch(/^"[\w-]+"$/);
    const revalidated = await request(server).get('/page?e=1').set('If-None-Match', etag).expect(304);
    expect(revalidated.text ?? '').toBe('');
    expect(revalidated.headers.etag).toBe(etag);
    const other = await request(server).get('/page?e=1').set('If-None-Match', '"something-else"').expect(200);
    expect(other.body).toStrictEqual(first.body);
    const weak = await request(server).get('/page?e=1').set('If-None-Match', `W/${etag}`);
    expect(weak.status).toBe(304);
    expect(runs.get('page')).toBe(1);
  });

  it('request Cache-Control: no-cache runs the handler and stores its fresh answer', async () => {
    const server = (await start()).getHttpServer();
    await request(server).get('/page?n=1').expect(200);
    const refreshed = await request(server).get('/page?n=1').set('Cache-Control', 'no-cache').expect(200);
    expect(refreshed.body.run).toBe(2);
    expect(refreshed.headers['x-cache']).toBe('MISS');
    const next = await request(server).get('/page?n=1').expect(200);
    expect([next.body.run, next.headers['x-cache']]).toStrictEqual([2, 'HIT']);
    const noStore = await request(server).get('/page?n=1').set('Cache-Control', 'no-store').expect(200);
    expect(noStore.body.run).toBe(3);
    expect((await request(server).get('/page?n=1').expect(200)).body.run).toBe(2);
  });

  it('X-Cache: STALE for an answer past its TTL within the grace period, refreshed in the background', async () => {
    const server = (await start({ l2: false, grace: 600_000 })).getHttpServer();
    await request(server).get('/flaky').expect(200, { run: 1 });
    // Past the 1 ms TTL of the route.
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stale = await request(server).get('/flaky').expect(200, { run: 1 });
    expect(stale.headers['x-cache']).toBe('STALE');
    await vi.waitFor(() => expect(runs.get('flaky')).toBe(2));
  });

  it('X-Cache: STALE with the last known answer when the handler fails (fail-safe), 200 not 503', async () => {
    const server = (await start({ l2: false, failSafeMaxMs: 600_000 })).getHttpServer();
    await request(server).get('/flaky').expect(200, { run: 1 });
    upstreamDown = true;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const stale = await request(server).get('/flaky').expect(200, { run: 1 });
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(runs.get('flaky')).toBe(2);
  });

  it('refreshAhead: a hit past the refresh point answers at once and refreshes the answer in the background', async () => {
    // 0.0001 of the 60 s TTL: due after 6 ms.
    const server = (await start({ l2: false, refreshAhead: 0.0001 })).getHttpServer();
    await request(server).get('/eager').expect(200, { run: 1 });
    await new Promise((resolve) => setTimeout(resolve, 20));
    const hit = await request(server).get('/eager').expect(200, { run: 1 });
    expect(hit.headers['x-cache']).toBe('HIT');
    await vi.waitFor(() => expect(runs.get('eager')).toBe(2));
    expect((await request(server).get('/eager').expect(200)).body).toStrictEqual({ run: 2 });
  });

  it('@CacheKey replaces the default key (the query no longer counts)', async () => {
    const app = await start();
    const server = app.getHttpServer();
    await request(server).get('/custom?x=1').expect(200, { x: '1', run: 1 });
    await request(server).get('/custom?x=2').expect(200, { x: '1', run: 1 });
    expect(await app.get(MultiLevelCache).get('custom_key')).toMatchObject({ body: { x: '1', run: 1 } });
  });

  it('caches a string answer as it was sent', async () => {
    const server = (await start()).getHttpServer();
    const first = await request(server).get('/text').expect(200);
    const second = await request(server).get('/text').expect(200);
    expect([first.text, second.text, second.headers['x-cache']]).toStrictEqual(['plain 1', 'plain 1', 'HIT']);
  });

  it('caches HEAD apart from GET', async () => {
    const server = (await start()).getHttpServer();
    await request(server).head('/page?h=1').expect(200);
    const head = await request(server).head('/page?h=1').expect(200);
    expect(head.headers['x-cache']).toBe('HIT');
    const get = await request(server).get('/page?h=1').expect(200);
    expect(get.body).toStrictEqual({ query: { h: '1' }, run: 2 });
  });

  it('works as a global interceptor (APP_INTERCEPTOR)', async () => {
    const server = (await start({ l2: false }, { global: true })).getHttpServer();
    await request(server).get('/global').expect(200, { run: 1 });
    const second = await request(server).get('/global').expect(200, { run: 1 });
    expect(second.headers['x-cache']).toBe('HIT');
  });

  it('with Redis: a delete on one app reaches the other app’s L1, so its next request runs the handler', async () => {
    const a = await start({ l2: { url: redisUrl() } });
    const b = await start({ l2: { url: redisUrl() } });
    await request(b.getHttpServer()).get('/page?co=1').expect(200);
    expect((await request(b.getHttpServer()).get('/page?co=1')).headers['x-cache']).toBe('HIT');
    const received = b.get(MultiLevelCache).stats().bus.received;
    await a.get(MultiLevelCache).del('GET /page?co=1');
    await vi.waitFor(() => expect(b.get(MultiLevelCache).stats().bus.received).toBeGreaterThan(received));
    const after = await request(b.getHttpServer()).get('/page?co=1').expect(200);
    expect([after.headers['x-cache'], after.body.run]).toStrictEqual(['MISS', 2]);
  });

  it('with Redis gone: answers from the handler, then from L1 (fail-open)', async () => {
    const redis = await RedisServer.start();
    try {
      const app = await start({ l2: { url: redis.url, timeoutMs: 50 } });
      await redis.kill();
      const first = await request(app.getHttpServer()).get('/page?down=1').expect(200);
      const second = await request(app.getHttpServer()).get('/page?down=1').expect(200);
      expect([first.headers['x-cache'], second.headers['x-cache']]).toStrictEqual(['MISS', 'HIT']);
      expect(second.body).toStrictEqual({ query: { down: '1' }, run: 1 });
      expect(app.get(MultiLevelCache).stats().l2Errors).toBeGreaterThan(0);
    } finally {
      await redis.stop();
    }
  });

  it('with Redis: a second app sharing it serves the answer without running its handler, and @CacheTTL sets the Redis TTL', async () => {
    const a = await start({ l2: { url: redisUrl() } });
    await request(a.getHttpServer()).get('/long-ttl').expect(200, { run: 1 });
    const redis = new Redis(redisUrl());
    try {
      // A miss answers before its Redis write lands (the write is not part of the request's latency).
      await vi.waitFor(async () => expect(await redis.exists(`${namespace}::GET /long-ttl`)).toBe(1));
      const b = await start({ l2: { url: redisUrl() } });
      const fromB = await request(b.getHttpServer()).get('/long-ttl').expect(200, { run: 1 });
      expect(fromB.headers['x-cache']).toBe('HIT');
      expect(runs.get('long-ttl')).toBe(1);
      expect(b.get(MultiLevelCache).stats().hits.l2).toBe(1);
      const ttl = await redis.pttl(`${namespace}::GET /long-ttl`);
      // @CacheTTL(300_000), not the module's 60 s default.
      expect(ttl).toBeGreaterThan(200_000);
      expect(ttl).toBeLessThanOrEqual(300_000);
      await request(a.getHttpServer()).get('/nest-decorated').expect(200);
      await vi.waitFor(async () => expect(await redis.exists(`${namespace}::nest_key`)).toBe(1));
      const nestTtl = await redis.pttl(`${namespace}::nest_key`);
      expect(nestTtl).toBeGreaterThan(300_000);
      expect(nestTtl).toBeLessThanOrEqual(400_000);
    } finally {
      redis.disconnect();
    }
  });
});
