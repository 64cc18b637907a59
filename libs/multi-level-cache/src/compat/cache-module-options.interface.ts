import type { InjectionToken, ModuleMetadata, OptionalFactoryDependency, Provider, Type } from '@nestjs/common';
import type { MultiLevelCacheModuleOptions } from '../interfaces/multi-level-cache-options.interface.js';

/**
 * `CacheModule` options: `@nestjs/cache-manager`'s (`ttl`, `refreshThreshold`, `cacheId`, `isGlobal`) and the
 * multi-level cache's own (`namespace`, `l1`, `l2`, `grace`, …). Without `l2` the cache is in-process only, as
 * cache-manager's default in-memory store.
 * @publicApi
 */
export interface CacheModuleOptions extends MultiLevelCacheModuleOptions {
  /** Default TTL in milliseconds; 0 is cache-manager's "no expiry" (kept 365 days here). Default 60 000. */
  ttl?: number;
  /** Default `refreshThreshold` of `Cache.wrap` (ms): a hit with less TTL left is refreshed in the background. */
  refreshThreshold?: number;
  /** What `Cache.cacheId()` returns. Default: the namespace. */
  cacheId?: string;
  /** Makes `CACHE_MANAGER`, `Cache` and `MultiLevelCache` injectable in every module. */
  isGlobal?: boolean;
}

/** `useClass`/`useExisting` target of `CacheModule.registerAsync`, as in `@nestjs/cache-manager`. @publicApi */
export interface CacheOptionsFactory {
  createCacheOptions(): CacheModuleOptions | Promise<CacheModuleOptions>;
}

/** @publicApi */
export interface CacheModuleAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  useFactory?: (...args: never[]) => CacheModuleOptions | Promise<CacheModuleOptions>;
  inject?: (InjectionToken | OptionalFactoryDependency)[];
  useClass?: Type<CacheOptionsFactory>;
  useExisting?: Type<CacheOptionsFactory>;
  /** Providers to add to the module (e.g. what `useFactory` injects). */
  extraProviders?: Provider[];
  isGlobal?: boolean;
}
