/**
 * Route metadata keys. The key and TTL keys are `@nestjs/cache-manager`'s own values, so its `@CacheKey`/`@CacheTTL`
 * configure our interceptor and ours configure its interceptor: a move can swap imports one file at a time.
 */
export const CACHE_KEY_METADATA = 'cache_module:cache_key';
export const CACHE_TTL_METADATA = 'cache_module:cache_ttl';
/** The request headers a route's cached answers vary on (lower-case names). */
export const CACHE_VARY_METADATA = 'nest-scale:http-cache:vary';
