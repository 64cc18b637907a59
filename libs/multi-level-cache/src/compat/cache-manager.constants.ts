/** The injection token of the cache-manager `Cache`: the same value as `@nestjs/cache-manager`'s `CACHE_MANAGER`. */
export const CACHE_MANAGER = 'CACHE_MANAGER';
/** The options given to `CacheModule.register`/`registerAsync`. @internal */
export const CACHE_MODULE_OPTIONS = 'nest-scale:cache-module-options';
