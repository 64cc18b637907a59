import { Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { MultiLevelCacheExplorer } from './multi-level-cache.explorer.js';
import { ConfigurableModuleClass } from './multi-level-cache.module-definition.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

/**
 * `MultiLevelCacheModule.forRoot({ namespace, ttl, l1, l2, isGlobal })` or `.forRootAsync({ imports, inject,
 * useFactory })`. Provides `MultiLevelCache` and applies `@Cached` / `@CacheEvict` at init.
 * @publicApi
 */
@Module({
  imports: [DiscoveryModule],
  providers: [MultiLevelCache, MultiLevelCacheExplorer],
  exports: [MultiLevelCache],
})
export class MultiLevelCacheModule extends ConfigurableModuleClass {}
