import { Controller, Injectable, Module, Scope, SetMetadata, type LoggerService, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Test, type TestingModule } from '@nestjs/testing';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { cachedMethodKey } from './codec/cached-method-key.js';
import { CacheEvict } from './decorators/cache-evict.decorator.js';
import { Cached } from './decorators/cached.decorator.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import { CacheSerializationError } from './errors/cache-serialization.error.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const ROLE = 'test:role';

@Injectable()
class UsersRepo {
  calls = 0;
  readonly prefix = 'user';

  @SetMetadata(ROLE, 'reader')
  @Cached({ ttl: 10_000 })
  async find(id: number): Promise<{ id: number; from: string; at: Date }> {
    this.calls++;
    return { id, from: this.prefix, at: new Date(id) };
  }

  @Cached({ key: (id: number) => `user-name:${id}`, tags: (id: number) => [`user:${id}`] })
  async name(id: number): Promise<string> {
    this.calls++;
    return `name-${id}-${this.calls}`;
  }

  @Cached()
  async search(filter: { role: string; since: Date; ids: Set<number> }): Promise<number> {
    this.calls++;
    return filter.ids.size;
  }

  @CacheEvict({
    keys: (id: number) => [cachedMethodKey(UsersRepo, 'find', [id])],
    tags: (id: number) => [`user:${id}`],
  })
  async update(id: number): Promise<string> {
    return `updated ${id}`;
  }

  @CacheEvict({ tags: ['never'] })
  async failingUpdate(): Promise<void> {
    throw new Error('write failed');
  }
}

@Injectable()
class OrdersRepo {
  calls = 0;
  @Cached()
  async find(id: number): Promise<string> {
    this.calls++;
    return `order ${id}`;
  }
}

@Injectable()
class SyncService {
  calls = 0;
  @Cached()
  // oxlint-disable-next-line typescript/promise-function-async -- deliberately not a Promise
  compute(x: number) {
    this.calls++;
    return x * 2;
  }
}

@Controller()
class ItemsController {
  calls = 0;
  @Cached()
  async item(id: string): Promise<string> {
    this.calls++;
    return id.toUpperCase();
  }
}

@Module({ providers: [UsersRepo, OrdersRepo, SyncService], controllers: [ItemsController] })
class FeatureModule {}

function makeTwin(): Type {
  @Injectable()
  class Twin {
    @Cached()
    async get(): Promise<number> {
      return 1;
    }
  }
  return Twin;
}

const open: TestingModule[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
});

/** What the cache logged as warnings during the test. */
const warnings: string[] = [];
const captureLogger: LoggerService = {
  log: () => undefined,
  error: () => undefined,
  warn: (message: unknown) => void warnings.push(String(message)),
};
beforeEach(() => {
  warnings.length = 0;
});

async function boot(options: MultiLevelCacheModuleOptions, extra: Type[] = [FeatureModule]): Promise<TestingModule> {
  const mod = await Test.createTestingModule({
    imports: [MultiLevelCacheModule.forRoot({ ...options, isGlobal: true }), ...extra],
  })
    .setLogger(captureLogger)
    .compile();
  open.push(mod);
  await mod.init();
  return mod;
}

describe('@Cached / @CacheEvict', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('exp');
  });

  it('caches a provider method, keeping `this`, its name and other decorators’ metadata', async () => {
    const app = await boot({ namespace, l2: { url: redisUrl() } });
    const users = app.get(UsersRepo);
    const first = await users.find(7);
    const second = await users.find(7);
    expect(first).toStrictEqual({ id: 7, from: 'user', at: new Date(7) });
    expect(second).toBe(first);
    expect(users.calls).toBe(1);
    expect(users.find.name).toBe('find');
    expect(Reflect.getMetadata(ROLE, users.find)).toBe('reader');
    expect(app.get(Reflector).get(ROLE, users.find)).toBe('reader');
    // The prototype holds the decorator's trampoline; boot only binds this application's instance to its cache.
    expect(Object.hasOwn(users, 'find')).toBe(false);
    expect(users.find).toBe(UsersRepo.prototype.find);
    const outsideNest = new UsersRepo();
    await outsideNest.find(7);
    await outsideNest.find(7);
    expect(outsideNest.calls).toBe(2);
  });

  it('gives same-named methods of different classes separate entries', async () => {
    const app = await boot({ namespace, l2: { url: redisUrl() } });
    const user = await app.get(UsersRepo).find(1);
    const order = await app.get(OrdersRepo).find(1);
    expect(user).toMatchObject({ id: 1 });
    expect(order).toBe('order 1');
    expect(app.get(OrdersRepo).calls).toBe(1);
  });

  it('also caches controller methods', async () => {
    const app = await boot({ namespace, l2: false });
    const controller = app.get(ItemsController);
    expect(await controller.item('a')).toBe('A');
    expect(await controller.item('a')).toBe('A');
    expect(controller.calls).toBe(1);
  });

  it('keys by a canonical encoding of the arguments (key order, Set order, Date value)', async () => {
    const app = await boot({ namespace, l2: false });
    const users = app.get(UsersRepo);
    await users.search({ role: 'a', since: new Date(5), ids: new Set([1, 2]) });
    await users.search({ ids: new Set([2, 1]), since: new Date(5), role: 'a' } as never);
    expect(users.calls).toBe(1);
    await users.search({ role: 'a', since: new Date(6), ids: new Set([1, 2]) });
    expect(users.calls).toBe(2);
  });

  it('defect 17: an argument that cannot be keyed runs the method uncached instead of rejecting', async () => {
    const app = await boot({ namespace, l2: false });
    const users = app.get(UsersRepo);
    const filter = { role: 'a', since: new Date(1), ids: new Set<unknown>([() => 1, 2]) };
    expect(await users.search(filter as never)).toBe(2);
    expect(await users.search(filter as never)).toBe(2);
    expect(users.calls).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/UsersRepo\.search.*index 0.*\$\[0\]\.ids\[0\].*function.*key: \(\.\.\.args\)/);
  });

  it('serves other instances from Redis with the same key, and types intact', async () => {
    const a = await boot({ namespace, l2: { url: redisUrl() } });
    await a.get(UsersRepo).find(3);
    const b = await boot({ namespace, l2: { url: redisUrl() } });
    const fromB = await b.get(UsersRepo).find(3);
    expect(b.get(UsersRepo).calls).toBe(0);
    expect(fromB.at).toBeInstanceOf(Date);
    expect(b.get(MultiLevelCache).stats().hits.l2).toBe(1);
  });

  it('keeps two applications in one process on separate L1s', async () => {
    const a = await boot({ namespace: `${namespace}:a`, l2: false });
    const b = await boot({ namespace: `${namespace}:b`, l2: false });
    await a.get(OrdersRepo).find(9);
    await b.get(OrdersRepo).find(9);
    expect(a.get(OrdersRepo).calls).toBe(1);
    expect(b.get(OrdersRepo).calls).toBe(1);
    expect(a.get(MultiLevelCache).stats().loaderCalls).toBe(1);
    expect(b.get(MultiLevelCache).stats().loaderCalls).toBe(1);
  });

  it('uses a custom key and derived tags; @CacheEvict deletes keys and tags after success only', async () => {
    const app = await boot({ namespace, l2: { url: redisUrl() } });
    const users = app.get(UsersRepo);
    const cache = app.get(MultiLevelCache);
    const n1 = await users.name(4);
    expect(await cache.get('user-name:4')).toBe(n1);
    await users.find(4);
    const before = users.calls;
    expect(await users.update(4)).toBe('updated 4');
    expect(await cache.get('user-name:4')).toBeUndefined();
    await users.find(4);
    expect(users.calls).toBe(before + 1);
    await expect(users.failingUpdate()).rejects.toThrow('write failed');
  });

  it('refuses a method that does not return a Promise, and caches nothing', async () => {
    const app = await boot({ namespace, l2: false });
    const sync = app.get(SyncService);
    await expect(sync.compute(2) as unknown as Promise<number>).rejects.toThrow(CachedMethodError);
    expect(() => sync.compute(2)).toThrow(/SyncService\.compute/);
    expect(app.get(MultiLevelCache).stats().l1Entries).toBe(0);
  });

  it('fails at boot when the declared return type is not a Promise', async () => {
    @Injectable()
    class Declared {
      @Cached()
      value(): number {
        return 1;
      }
    }
    @Module({ providers: [Declared] })
    class DeclaredModule {}
    await expect(boot({ namespace, l2: false }, [DeclaredModule])).rejects.toThrow(
      /Declared\.value.*declared return type is Number/,
    );
  });

  it('fails at boot for a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {
      @Cached()
      async load(): Promise<number> {
        return 1;
      }
    }
    @Module({ providers: [PerRequest] })
    class PerRequestModule {}
    const error = await boot({ namespace, l2: false }, [PerRequestModule]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CachedMethodError);
    expect((error as Error).message).toMatch(/PerRequest\.load.*request-scoped/);
  });

  it('wraps every instance of a transient provider', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    class Helper {
      calls = 0;
      @Cached()
      async double(x: number): Promise<number> {
        this.calls++;
        return x * 2;
      }
    }
    @Injectable()
    class Consumer {
      constructor(readonly helper: Helper) {}
    }
    @Module({ providers: [Helper, Consumer] })
    class TransientModule {}
    const app = await boot({ namespace, l2: false }, [TransientModule]);
    const helper = app.get(Consumer).helper;
    expect(await helper.double(2)).toBe(4);
    expect(await helper.double(2)).toBe(4);
    expect(helper.calls).toBe(1);
  });

  it('fails at boot when two classes with the same name would share default keys', async () => {
    const [A, B] = [makeTwin(), makeTwin()];
    @Module({
      providers: [
        { provide: 'a', useClass: A },
        { provide: 'b', useClass: B },
      ],
    })
    class TwinModule {}
    await expect(boot({ namespace, l2: false }, [TwinModule])).rejects.toThrow(/Two different classes named Twin/);
  });
});
