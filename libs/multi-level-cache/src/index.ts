export { cachedMethodKey } from './codec/cached-method-key.js';
export { CacheEvict, Cached } from './decorators/index.js';
export { CacheableClass, type CacheableClassOptions } from './decorators/index.js';
export { registerCacheableClass, type CacheableClassType } from './codec/class-registry.js';
export { CachedMethodError, CacheSerializationError, InvalidCacheOptionsError } from './errors/index.js';
export type {
  CachedOptions,
  CacheEvictOptions,
  CacheOutcome,
  CacheSetOptions,
  CacheWrapOptions,
  CacheWrapResult,
  L1Options,
  L2BreakerState,
  L2Options,
  LeaseOptions,
  MultiLevelCacheModuleOptions,
  MultiLevelCacheStats,
  CachedEntryView,
} from './interfaces/index.js';
export { MULTI_LEVEL_CACHE_OPTIONS } from './multi-level-cache.module-definition.js';
export { MultiLevelCacheModule } from './multi-level-cache.module.js';
export { MultiLevelCache } from './multi-level-cache.service.js';
export { CACHE_MANAGER } from './compat/cache-manager.constants.js';
export {
  Cache,
  type CacheEventName,
  type CacheListener,
  type CacheRawEntry,
  type CacheWrapCompatOptions,
} from './compat/cache-manager.facade.js';
export type {
  CacheModuleAsyncOptions,
  CacheModuleOptions,
  CacheOptionsFactory,
} from './compat/cache-module-options.interface.js';
export { CacheModule } from './compat/cache.module.js';
export { CacheInterceptor } from './http/cache.interceptor.js';
export { CACHE_KEY_METADATA, CACHE_TTL_METADATA } from './http/cache-route.constants.js';
export {
  CacheKey,
  CacheTTL,
  CacheVary,
  type CacheKeyFactory,
  type CacheTtlFactory,
} from './http/cache-route.decorators.js';
export {
  MultiLevelCacheHealthIndicator,
  type CacheHealthIndicatorResult,
} from './health/multi-level-cache.health-indicator.js';
export { InjectCache } from './decorators/inject-cache.decorator.js';
export { getCacheToken } from './multi-level-cache.tokens.js';
export type { KeyvStoreLike } from './interfaces/index.js';
export { MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS } from './telemetry/prometheus-views.js';
