import { encodeArgs, shortenKey } from './cache-key.js';

/**
 * The default key `@Cached` uses for `target.method(...args)` (without the module namespace), e.g. to delete one
 * entry with `MultiLevelCache.del` or `@CacheEvict({ keys })`. Arguments are encoded canonically (object key, Map and
 * Set order do not matter); a class instance (a DTO) counts as its class name plus its own enumerable data. Throws
 * `CacheSerializationError` for an argument with no data identity (a function, a symbol, a cycle).
 * @publicApi
 */
export function cachedMethodKey(
  target: abstract new (...args: never[]) => unknown,
  method: string,
  args: readonly unknown[],
): string {
  return shortenKey(`${target.name}.${method}:`, encodeArgs(args));
}
