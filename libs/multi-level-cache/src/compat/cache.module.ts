import { Module, type DynamicModule, type Provider } from '@nestjs/common';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import { invalidOption } from '../multi-level-cache.options.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { CACHE_MANAGER, CACHE_MODULE_OPTIONS } from './cache-manager.constants.js';
import { Cache } from './cache-manager.facade.js';
import type {
  CacheModuleAsyncOptions,
  CacheModuleOptions,
  CacheOptionsFactory,
} from './cache-module-options.interface.js';
import { splitCacheModuleOptions } from './cache-module-options.js';

/** Holds the options computed by `registerAsync`, for both the cache and the facade. @internal */
@Module({})
class CacheModuleOptionsHost {}

const facadeProvider: Provider = {
  provide: CACHE_MANAGER,
  useFactory: (cache: MultiLevelCache, options: CacheModuleOptions) =>
    new Cache(cache, splitCacheModuleOptions(options).facade),
  inject: [MultiLevelCache, CACHE_MODULE_OPTIONS],
};

/**
 * Drop-in for `@nestjs/cache-manager`'s `CacheModule`: `register(options)` / `registerAsync({ imports, inject,
 * useFactory | useClass | useExisting, extraProviders, isGlobal })`, with cache-manager's options (`ttl` in ms,
 * `refreshThreshold`, `cacheId`, `isGlobal`) and the multi-level cache's (`namespace`, `l1`, `l2`, …). Provides
 * `CACHE_MANAGER` (and the `Cache` class as a token) and `MultiLevelCache`, and applies `@Cached`/`@CacheEvict`.
 * @publicApi
 */
@Module({})
export class CacheModule {
  static register(options: CacheModuleOptions = {}): DynamicModule {
    const { cache } = splitCacheModuleOptions(options);
    return {
      module: CacheModule,
      global: options.isGlobal,
      imports: [MultiLevelCacheModule.forRoot(cache)],
      providers: [{ provide: CACHE_MODULE_OPTIONS, useValue: options }, facadeProvider, cacheToken()],
      exports: [CACHE_MANAGER, Cache, MultiLevelCacheModule],
    };
  }

  static registerAsync(options: CacheModuleAsyncOptions): DynamicModule {
    const host: DynamicModule = {
      module: CacheModuleOptionsHost,
      imports: options.imports ?? [],
      providers: [...optionsProviders(options), ...(options.extraProviders ?? [])],
      exports: [CACHE_MODULE_OPTIONS],
    };
    return {
      module: CacheModule,
      global: options.isGlobal,
      imports: [
        host,
        MultiLevelCacheModule.forRootAsync({
          imports: [host],
          inject: [CACHE_MODULE_OPTIONS],
          useFactory: (given: CacheModuleOptions) => splitCacheModuleOptions(given).cache,
        }),
      ],
      providers: [facadeProvider, cacheToken(), ...(options.extraProviders ?? [])],
      exports: [CACHE_MANAGER, Cache, MultiLevelCacheModule],
    };
  }
}

function cacheToken(): Provider {
  return { provide: Cache, useExisting: CACHE_MANAGER };
}

function optionsProviders(options: CacheModuleAsyncOptions): Provider[] {
  if (options.useFactory)
    return [
      {
        provide: CACHE_MODULE_OPTIONS,
        useFactory: options.useFactory as (...args: unknown[]) => CacheModuleOptions,
        inject: options.inject ?? [],
      },
    ];
  const factory = options.useExisting ?? options.useClass;
  if (!factory)
    invalidOption('CacheModule.registerAsync(options)', options, 'an object with useFactory, useClass or useExisting');
  return [
    ...(options.useClass ? [{ provide: options.useClass, useClass: options.useClass }] : []),
    {
      provide: CACHE_MODULE_OPTIONS,
      useFactory: (f: CacheOptionsFactory) => f.createCacheOptions(),
      inject: [factory],
    },
  ];
}
