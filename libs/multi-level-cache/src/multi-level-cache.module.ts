import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MultiLevelCacheExplorer } from './multi-level-cache.explorer.js';
import { ASYNC_OPTIONS_TYPE, ConfigurableModuleClass, OPTIONS_TYPE } from './multi-level-cache.module-definition.js';
import { invalidOption } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';
import { NamedCacheModule } from './named-cache.module.js';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';

/**
 * `MultiLevelCacheModule.forRoot({ namespace, ttl, l1, l2, isGlobal })` or `.forRootAsync({ imports, inject,
 * useFactory })`. Provides `MultiLevelCache` and applies `@Cached` / `@CacheEvict` at init. With `name`, a named
 * cache (several per app): provided under `getCacheToken(name)` / `@InjectCache(name)`, used by
 * `@Cached({ cache: name })`.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [MultiLevelCache, MultiLevelCacheExplorer],
  exports: [MultiLevelCache],
})
export class MultiLevelCacheModule extends ConfigurableModuleClass {
  static forRoot(options: typeof OPTIONS_TYPE): DynamicModule {
    if (options?.name === undefined) return super.forRoot(options);
    return NamedCacheModule.create(options.name, options.isGlobal, { useValue: options }, []);
  }

  /** A named cache's factory is `useFactory` (with `inject`, `imports`); `name` and `isGlobal` sit beside it. */
  static forRootAsync(options: typeof ASYNC_OPTIONS_TYPE & { name?: string }): DynamicModule {
    if (options?.name === undefined) return super.forRootAsync(options);
    const { name, useFactory } = options;
    if (typeof useFactory !== 'function')
      invalidOption(
        'forRootAsync({ name }).useFactory',
        useFactory,
        'a factory function (named caches take useFactory)',
      );
    const provider = {
      useFactory: async (...args: unknown[]): Promise<MultiLevelCacheModuleOptions> => ({
        ...(await useFactory(...args)),
        name,
      }),
      inject: options.inject ?? [],
    };
    return NamedCacheModule.create(name, options.isGlobal, provider, options.imports ?? []);
  }
}
