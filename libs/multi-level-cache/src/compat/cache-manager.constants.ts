/** The injection token of the cache-manager `Cache`: the same value as `@nestjs/cache-manager`'s `CACHE_MANAGER`. */
export const CACHE_MANAGER = 'CACHE_MANAGER';
/** The options given to `CacheModule.register`/`registerAsync`. @internal */
export const CACHE_MODULE_OPTIONS = 'nest-scale:cache-module-options';
/**
 * The tag of every entry written through `CACHE_MANAGER` or the `CacheInterceptor`, so that `clear()` drops them on
 * every instance. @internal
 */
export const CLEAR_TAGS: readonly string[] = Object.freeze(['cache-manager:clear']);
