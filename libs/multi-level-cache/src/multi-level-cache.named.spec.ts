import { Injectable, Module } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@keyv/redis';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { Cached, CacheEvict } from './decorators/index.js';
import { InjectCache } from './decorators/inject-cache.decorator.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';
import { getCacheToken } from './multi-level-cache.tokens.js';

const open: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

async function boot(imports: Parameters<typeof Test.createTestingModule>[0]['imports'], providers: unknown[] = []) {
  const mod = await Test.createTestingModule({ imports, providers: providers as never[] }).compile();
  open.push(mod);
  await mod.init();
  return mod;
}

@Injectable()
class Users {
  loads = 0;
  constructor(
    @InjectCache('users') readonly users: MultiLevelCache,
    @InjectCache('sessions') readonly sessions: MultiLevelCache,
    readonly fallback: MultiLevelCache,
  ) {}

  @Cached({ cache: 'users', key: (id: string) => `user:${id}` })
  async find(id: string): Promise<string> {
    this.loads++;
    return `user ${id}`;
  }

  @CacheEvict({ cache: 'users', keys: (id: string) => [`user:${id}`] })
  async rename(id: string): Promise<void> {
    void id;
  }

  @Cached({ key: (id: string) => `default:${id}` })
  async plain(id: string): Promise<string> {
    this.loads++;
    return `plain ${id}`;
  }
}

describe('named caches (issue 13 item 5)', () => {
  it('several forRoot({ name }) in one app: own namespace, tiers and TTL, injected by name; the default stays MultiLevelCache', async () => {
    const prefix = uniquePrefix('named');
    const mod = await boot(
      [
        MultiLevelCacheModule.forRoot({ namespace: `${prefix}-default`, isGlobal: true }),
        MultiLevelCacheModule.forRoot({
          name: 'users',
          namespace: `${prefix}-users`,
          ttl: 5_000,
          l2: { url: redisUrl() },
          isGlobal: true,
        }),
        MultiLevelCacheModule.forRootAsync({
          name: 'sessions',
          useFactory: async () => ({ ttl: 1_000, l1: { maxEntries: 10 } }),
          isGlobal: true,
        }),
      ],
      [Users],
    );
    const svc = mod.get(Users);
    expect(svc.users).toBeInstanceOf(MultiLevelCache);
    expect(new Set([svc.users, svc.sessions, svc.fallback]).size).toBe(3);
    expect(mod.get(getCacheToken('users'))).toBe(svc.users);
    expect(mod.get(MultiLevelCache)).toBe(svc.fallback);
    expect(mod.get(getCacheToken())).toBe(svc.fallback);

    await svc.users.set('k', 'in users');
    await svc.sessions.set('k', 'in sessions');
    expect(await svc.users.get('k')).toBe('in users');
    expect(await svc.sessions.get('k')).toBe('in sessions');
    expect(await svc.fallback.get('k')).toBeUndefined();
    expect(svc.sessions.stats().breaker).toBe('disabled');

    // The users cache writes under its own namespace, with its own TTL.
    const raw = createClient({ url: redisUrl() });
    await raw.connect();
    try {
      const pttl = await raw.pTTL(`${prefix}-users::k`);
      expect(pttl).toBeGreaterThan(1_000);
      expect(pttl).toBeLessThanOrEqual(5_000);
    } finally {
      raw.destroy();
    }

    // @Cached({ cache }) and @CacheEvict({ cache }) go to the named cache; without it, to the default one.
    expect(await svc.find('1')).toBe('user 1');
    expect(await svc.find('1')).toBe('user 1');
    expect(svc.loads).toBe(1);
    expect(await svc.users.get('user:1')).toBe('user 1');
    expect(await svc.fallback.get('user:1')).toBeUndefined();
    await svc.rename('1');
    expect(await svc.users.get('user:1')).toBeUndefined();
    expect(await svc.plain('2')).toBe('plain 2');
    expect(await svc.fallback.get('default:2')).toBe('plain 2');
    expect(await svc.users.get('default:2')).toBeUndefined();
  });

  it('a named cache without a namespace uses its name; two names never share entries in Redis', async () => {
    const a = uniquePrefix('a');
    const b = uniquePrefix('b');
    const mod = await boot([
      MultiLevelCacheModule.forRoot({ name: a, l2: { url: redisUrl() } }),
      MultiLevelCacheModule.forRoot({ name: b, l2: { url: redisUrl() } }),
    ]);
    const ca = mod.get<MultiLevelCache>(getCacheToken(a));
    const cb = mod.get<MultiLevelCache>(getCacheToken(b));
    await ca.set('k', 1);
    const reader = await boot([MultiLevelCacheModule.forRoot({ name: a, l1: false, l2: { url: redisUrl() } })]);
    expect(await reader.get<MultiLevelCache>(getCacheToken(a)).get('k')).toBe(1);
    expect(await cb.get('k')).toBeUndefined();
  });

  it('@Cached({ cache }) naming no registered cache fails the boot, naming the method and the cache', async () => {
    @Injectable()
    class Orphan {
      @Cached({ cache: 'nope' })
      async load(): Promise<number> {
        return 1;
      }
    }
    const failure = boot([MultiLevelCacheModule.forRoot({})], [Orphan]);
    await expect(failure).rejects.toThrow(CachedMethodError);
    await expect(failure).rejects.toThrow(/Orphan\.load names the cache "nope"/);
  });

  it('rejects a name that is not a non-empty string, and forRootAsync({ name }) without useFactory', async () => {
    expect(() => MultiLevelCacheModule.forRoot({ name: '' })).toThrow(InvalidCacheOptionsError);
    expect(() => MultiLevelCacheModule.forRoot({ name: 7 as unknown as string })).toThrow(/`name` must be/);
    expect(() => MultiLevelCacheModule.forRootAsync({ name: 'x', useClass: class {} as never } as never)).toThrow(
      /`forRootAsync\(\{ name \}\)\.useFactory` must be a factory function/,
    );
  });

  it('a feature module injects a global named cache by name', async () => {
    @Injectable()
    class Feature {
      constructor(@InjectCache('shared') readonly cache: MultiLevelCache) {}
    }
    @Module({ providers: [Feature], exports: [Feature] })
    class FeatureModule {}
    const mod = await boot([MultiLevelCacheModule.forRoot({ name: 'shared', isGlobal: true }), FeatureModule]);
    expect(mod.get(Feature).cache).toBe(mod.get(getCacheToken('shared')));
  });
});
