import { encodeArgs, shortenKey } from './cache-key.js';

/**
 * The default key `@Cached` uses for `target.method(...args)` (without the module namespace), e.g. to delete one
 * entry with `MultiLevelCache.del` or `@CacheEvict({ keys })`.
 * @publicApi
 */
export function cachedMethodKey(
  target: abstract new (...args: never[]) => unknown,
  method: string,
  args: readonly unknown[],
): string {
  return shortenKey(`${target.name}.${method}:`, encodeArgs(args));
}
