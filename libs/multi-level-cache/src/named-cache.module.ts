import { Module, type DynamicModule, type FactoryProvider, type Provider, type ValueProvider } from '@nestjs/common';
import { DiscoveryModule, DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { MultiLevelCacheModuleOptions } from './interfaces/multi-level-cache-options.interface.js';
import { MultiLevelCacheExplorer } from './multi-level-cache.explorer.js';
import { invalidOption } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';
import { getCacheToken } from './multi-level-cache.tokens.js';

/** How a named cache gets its options: a value (`forRoot`) or a factory (`forRootAsync`). @internal */
export type NamedCacheOptions =
  | Omit<ValueProvider<MultiLevelCacheModuleOptions>, 'provide'>
  | Omit<FactoryProvider<Promise<MultiLevelCacheModuleOptions>>, 'provide'>;

/**
 * The module of one named cache: its own `MultiLevelCache` (tiers, namespace, options) and explorer, provided only
 * under `getCacheToken(name)` (tokens of its own, so `app.get(MultiLevelCache)` still finds the default cache).
 * @internal
 */
@Module({ imports: [DiscoveryModule] })
export class NamedCacheModule {
  static create(
    name: unknown,
    isGlobal: boolean | undefined,
    options: NamedCacheOptions,
    imports: NonNullable<DynamicModule['imports']>,
  ): DynamicModule {
    if (typeof name !== 'string' || name.length === 0)
      invalidOption('name', name, 'a non-empty string (the name of the cache, for @InjectCache(name))');
    const token = getCacheToken(name) as string;
    const optionsToken = `${token}:options`;
    return {
      module: NamedCacheModule,
      global: isGlobal ?? false,
      imports,
      providers: [
        { provide: optionsToken, ...options } as Provider,
        {
          provide: token,
          useFactory: (resolved: MultiLevelCacheModuleOptions) => new MultiLevelCache(resolved),
          inject: [optionsToken],
        },
        {
          provide: `${token}:explorer`,
          useFactory: (discovery: DiscoveryService, scanner: MetadataScanner, cache: MultiLevelCache, ref: ModuleRef) =>
            new MultiLevelCacheExplorer(discovery, scanner, cache, ref, name),
          inject: [DiscoveryService, MetadataScanner, token, ModuleRef],
        },
      ],
      exports: [token],
    };
  }
}
