// The app of `npm run bench -- cache-http`: one Fastify app, three routes answering the same JSON — bare, through
// nest-scale's CacheInterceptor (L1), and through @nestjs/cache-manager's CacheInterceptor (its in-memory store).
import 'reflect-metadata';
import { Controller, Get, Module, UseInterceptors } from '@nestjs/common';
import { CacheModule as NestCacheModule, CacheInterceptor as NestCacheInterceptor } from '@nestjs/cache-manager';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { CacheInterceptor, MultiLevelCacheModule } from '../../libs/multi-level-cache/src/index.js';

const PAYLOAD = Array.from({ length: 10 }, (_, i) => ({
  id: i + 1,
  name: `Product ${i + 1}`,
  priceCents: 1_000 + i * 100,
  tags: ['new', 'popular'],
}));

@Controller()
class BareController {
  @Get('bare')
  list() {
    return PAYLOAD;
  }

  /** CPU time this process used so far (µs), so the bench can tell each route's cost apart from a busy machine. */
  @Get('cpu')
  cpu() {
    const { user, system } = process.cpuUsage();
    return { us: user + system };
  }
}

@Controller()
@UseInterceptors(CacheInterceptor)
class OursController {
  @Get('ours')
  list() {
    return PAYLOAD;
  }
}

@Controller()
@UseInterceptors(NestCacheInterceptor)
class NestCachedController {
  @Get('nest')
  list() {
    return PAYLOAD;
  }
}

@Module({ imports: [MultiLevelCacheModule.forRoot({ ttl: 600_000, l2: false })], controllers: [OursController] })
class OursModule {}

@Module({ imports: [NestCacheModule.register({ ttl: 600_000 })], controllers: [NestCachedController] })
class NestCachedModule {}

@Module({ imports: [OursModule, NestCachedModule], controllers: [BareController] })
class BenchModule {}

const app = await NestFactory.create(BenchModule, new FastifyAdapter(), { logger: false });
await app.listen(Number(process.env.PORT ?? 0), '127.0.0.1');
console.log(`cache-http bench app listening on ${await app.getUrl()}`);
