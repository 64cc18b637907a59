/**
 * `@Cached` / `@CacheEvict` was put where it cannot work: a method that does not return a Promise, or a request-scoped
 * provider. Thrown at boot when this can be known then, otherwise at the first call (and nothing is cached).
 * @publicApi
 */
export class CachedMethodError extends Error {
  override readonly name = 'CachedMethodError';
}
