import { Controller, Injectable, Module, Scope, SetMetadata, type LoggerService, type Type } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { Socket } from 'node:net';
import { Test, type TestingModule } from '@nestjs/testing';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { cachedMethodKey } from './codec/cached-method-key.js';
import { CacheEvict } from './decorators/cache-evict.decorator.js';
import { CacheableClass } from './decorators/cacheable-class.decorator.js';
import { Cached } from './decorators/cached.decorator.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import { CacheSerializationError } from './errors/cache-serialization.error.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

const ROLE = 'test:role';

class ProductQuery {
  constructor(
    readonly q: string,
    readonly page: number,
  ) {}
}

class OrderQuery {
  constructor(
    readonly q: string,
    readonly page: number,
  ) {}
}

@CacheableClass({ name: 'explorer-spec.Entity' })
class Entity {
  id!: number;
  tags!: Set<string>;
  get label(): string {
    return `entity ${this.id}`;
  }
}

class Unregistered {
  constructor(readonly id: number) {}
}

@Injectable()
class Catalog {
  calls = 0;
  constructor(private readonly cache: MultiLevelCache) {}

  @Cached()
  async search(query: unknown): Promise<string> {
    this.calls++;
    return `${(query as ProductQuery).q}:${(query as ProductQuery).page}`;
  }

  @Cached()
  async entity(id: number): Promise<Entity> {
    this.calls++;
    return Object.assign(new Entity(), { id, tags: new Set(['a']) });
  }

  @Cached()
  async legacy(id: number): Promise<Unregistered> {
    this.calls++;
    return new Unregistered(id);
  }

  @Cached()
  async storesBadValue(id: number): Promise<number> {
    this.calls++;
    await this.cache.set(`inner:${id}`, new Unregistered(id));
    return id;
  }
}

@Module({ providers: [Catalog] })
class CatalogModule {}

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

  it('binds inherited @Cached methods per subclass, with the subclass name in the key', async () => {
    class BaseRepo {
      calls = 0;
      @Cached()
      async find(id: number): Promise<string> {
        this.calls++;
        return `${this.constructor.name} ${id}`;
      }
    }
    @Injectable()
    class CatsRepo extends BaseRepo {}
    @Injectable()
    class DogsRepo extends BaseRepo {}
    @Module({ providers: [CatsRepo, DogsRepo] })
    class PetsModule {}
    const app = await boot({ namespace, l2: false }, [PetsModule]);
    const [cats, dogs] = [app.get(CatsRepo), app.get(DogsRepo)];
    expect([await cats.find(1), await cats.find(1), await dogs.find(1)]).toStrictEqual([
      'CatsRepo 1',
      'CatsRepo 1',
      'DogsRepo 1',
    ]);
    expect([cats.calls, dogs.calls]).toStrictEqual([1, 1]);
    expect(await app.get(MultiLevelCache).get(cachedMethodKey(DogsRepo, 'find', [1]))).toBe('DogsRepo 1');
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

describe('@Cached with class instances', () => {
  let namespace: string;
  beforeEach(() => {
    namespace = uniquePrefix('exp-class');
  });

  it('defect 17: a class-instance argument keys by its data and class name', async () => {
    const app = await boot({ namespace, l2: false }, [CatalogModule]);
    const catalog = app.get(Catalog);
    expect(await catalog.search(new ProductQuery('shoes', 1))).toBe('shoes:1');
    expect(await catalog.search(new ProductQuery('shoes', 1))).toBe('shoes:1');
    expect(catalog.calls).toBe(1);
    await catalog.search(new ProductQuery('shoes', 2));
    // Same fields, another class: another entry.
    await catalog.search(new OrderQuery('shoes', 1));
    // Same fields as plain data: another entry too.
    await catalog.search({ q: 'shoes', page: 1 });
    expect(catalog.calls).toBe(4);
    expect(warnings).toStrictEqual([]);
  });

  it('defect 17: a function, a socket or a circular argument runs the method uncached, warned once', async () => {
    const app = await boot({ namespace, l2: false }, [CatalogModule]);
    const catalog = app.get(Catalog);
    const circular: Record<string, unknown> = { q: 'c', page: 1 };
    circular.self = circular;
    const socket = new Socket();
    for (const arg of [circular, circular, Object.assign(() => 1, { q: 'f', page: 1 }), socket])
      expect(await catalog.search(arg)).toMatch(/:/);
    socket.destroy();
    expect(catalog.calls).toBe(4);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Catalog\.search.*index 0.*circular reference.*@Cached\(\{ key: \(\.\.\.args\) => /);
  });

  it.each([
    ['L1 only', { l2: false }],
    ['L2 only', { l1: false as const, l2: 'redis' }],
    ['L1 and L2', { l2: 'redis' }],
  ])('defect 18: a registered class instance comes back with its prototype (%s)', async (_label, tiers) => {
    const options = { ...tiers, namespace, l2: tiers.l2 === 'redis' ? { url: redisUrl() } : false } as const;
    const app = await boot(options, [CatalogModule]);
    const catalog = app.get(Catalog);
    const first = await catalog.entity(1);
    const second = await catalog.entity(1);
    expect(catalog.calls).toBe(1);
    expect(second).toBeInstanceOf(Entity);
    expect(second.label).toBe('entity 1');
    expect(second).toStrictEqual(first);
  });

  it('defect 18: a second instance reads a registered class instance from Redis with its prototype', async () => {
    const options = { namespace, l2: { url: redisUrl() } };
    const first = await (await boot(options, [CatalogModule])).get(Catalog).entity(1);
    const other = await boot(options, [CatalogModule]);
    const fromRedis = await other.get(Catalog).entity(1);
    expect(other.get(Catalog).calls).toBe(0);
    expect(other.get(MultiLevelCache).stats().hits.l2).toBe(1);
    expect(fromRedis).toBeInstanceOf(Entity);
    expect(fromRedis.label).toBe('entity 1');
    expect(fromRedis).toStrictEqual(first);
  });

  it.each([
    ['L1 only', false],
    ['L1 and L2', true],
  ])('defect 18: an unregistered class instance is returned uncached, warned once (%s)', async (_label, redis) => {
    const app = await boot({ namespace, l2: redis ? { url: redisUrl() } : false }, [CatalogModule]);
    const catalog = app.get(Catalog);
    const first = await catalog.legacy(1);
    const second = await catalog.legacy(1);
    expect(first).toBeInstanceOf(Unregistered);
    expect(second).toStrictEqual(new Unregistered(1));
    expect(catalog.calls).toBe(2);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/Catalog\.legacy.*Unregistered.*@CacheableClass\(\)/);
  });

  it('defect 18: a method that itself rejects with CacheSerializationError still rejects', async () => {
    const app = await boot({ namespace, l2: false }, [CatalogModule]);
    const error = await app
      .get(Catalog)
      .storesBadValue(1)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect(warnings).toStrictEqual([]);
  });

  it('defect 18: set() of an unregistered class instance keeps rejecting, naming the class and the fix', async () => {
    const app = await boot({ namespace, l2: false }, [CatalogModule]);
    const cache = app.get(MultiLevelCache);
    await expect(cache.set('k', { nested: [new Unregistered(1)] })).rejects.toThrow(
      /\$\.nested\[0\].*Unregistered.*@CacheableClass\(\)/,
    );
    expect(await cache.get('k')).toBeUndefined();
    await cache.set('e', Object.assign(new Entity(), { id: 2, tags: new Set<string>() }));
    expect(await cache.get('e')).toBeInstanceOf(Entity);
  });
});

function moduleWith(decorate: () => MethodDecorator): Type {
  @Injectable()
  class Hostile {
    @decorate()
    async run(): Promise<number> {
      return 1;
    }
  }
  @Module({ providers: [Hostile] })
  class HostileModule {}
  return HostileModule;
}

describe('hostile @Cached / @CacheEvict options', () => {
  const namespace = uniquePrefix('exp-hostile');

  it.each([
    ['NaN ttl', () => Cached({ ttl: Number.NaN }), /Hostile\.run.*ttl.*NaN/],
    ['negative grace', () => Cached({ grace: -1 }), /Hostile\.run.*grace/],
    ['Infinity ttl', () => Cached({ ttl: Number.POSITIVE_INFINITY }), /Hostile\.run.*ttl.*Infinity/],
    ['a ttl of 400 days', () => Cached({ ttl: 400 * 86_400_000 }), /Hostile\.run.*ttl.*34560000000/],
    ['a fractional nullTtl', () => Cached({ nullTtl: 0.5 }), /Hostile\.run.*nullTtl/],
    ['a key that is not a function', () => Cached({ key: 'k' as never }), /@Cached\(Hostile\.run\)\.key/],
    [
      'an unknown option (typo)',
      () => Cached({ tll: 5 } as never),
      /^`@Cached\(Hostile\.run\)` has no key "tll": did you mean "ttl"\? Known keys: ttl, nullTtl, key, /,
    ],
    [
      'an unknown evict option (typo)',
      () => CacheEvict({ tag: ['t'] } as never),
      /^`@CacheEvict\(Hostile\.run\)` has no key "tag": did you mean "tags"\? Known keys: keys, tags, cache\./,
    ],
    ['tags that are not strings', () => Cached({ tags: [1] as never }), /Hostile\.run.*tags/],
    ['a non-boolean lease', () => Cached({ lease: 'yes' as never }), /@Cached\(Hostile\.run\)\.lease/],
    [
      'evict keys that are not a function',
      () => CacheEvict({ keys: ['k'] as never }),
      /@CacheEvict\(Hostile\.run\)\.keys/,
    ],
    ['evict tags of symbols', () => CacheEvict({ tags: [Symbol('t')] as never }), /@CacheEvict\(Hostile\.run\)\.tags/],
  ])('fails the boot for %s, naming the method and option', async (_label, decorate, message) => {
    const error = await boot({ namespace, l2: false }, [moduleWith(decorate)]).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(InvalidCacheOptionsError);
    expect((error as Error).name).toBe('InvalidCacheOptionsError');
    expect((error as Error).message).toMatch(message);
    expect((error as InvalidCacheOptionsError).option).toMatch(/^@(Cached|CacheEvict)\(Hostile\.run\)/);
  });

  it('refuses @Cached on a non-method at decoration time', () => {
    expect(() => {
      class OnAccessor {
        @Cached()
        get value(): Promise<number> {
          return Promise.resolve(1);
        }
      }
      return OnAccessor;
    }).toThrow(/@Cached on OnAccessor\.value needs a method/);
  });

  it('keys hostile arguments: NaN, -0, symbols, huge strings, deep nesting', async () => {
    const app = await boot({ namespace, l2: { url: redisUrl() } }, [CatalogModule]);
    const catalog = app.get(Catalog);
    const huge = 'x'.repeat(1_000_000);
    let deep: unknown = 'leaf';
    for (let i = 0; i < 500; i++) deep = { d: deep };
    for (const arg of [Number.NaN, Number.NaN, -0, 0, huge, huge, deep, deep]) await catalog.search(arg);
    expect(catalog.calls).toBe(5);
    expect(await catalog.search(Symbol('s'))).toBe('undefined:undefined');
    expect(catalog.calls).toBe(6);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/symbol/);
  });
});
