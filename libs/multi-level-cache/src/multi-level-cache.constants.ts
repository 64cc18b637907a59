/** Metadata key of `@Cached`. @internal */
export const CACHED_METADATA = 'nest_scale:cached';
/** Metadata key of `@CacheEvict`. @internal */
export const CACHE_EVICT_METADATA = 'nest_scale:cache_evict';
