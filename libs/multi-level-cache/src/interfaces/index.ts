export type {
  CacheOutcome,
  CacheSetOptions,
  CacheWrapOptions,
  CacheWrapResult,
} from './cache-call-options.interface.js';
export type { CachedEntryView, L2BreakerState, MultiLevelCacheStats } from './cache-stats.interface.js';
export type { CachedOptions, CacheEvictOptions } from './cached-options.interface.js';
export type {
  KeyvStoreLike,
  L1Options,
  L2Options,
  LeaseOptions,
  MultiLevelCacheModuleOptions,
} from './multi-level-cache-options.interface.js';
