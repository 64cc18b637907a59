import type { MultiLevelCacheModuleOptions } from '../interfaces/multi-level-cache-options.interface.js';
import { InvalidCacheOptionsError } from '../errors/invalid-cache-options.error.js';
import { UNSUPPORTED_CACHE_MODULE_OPTION } from '../multi-level-cache.messages.js';
import { invalidOption } from '../multi-level-cache.options.js';
import type { CacheModuleOptions } from './cache-module-options.interface.js';
import { checkCompatTtl, compatTtl } from './compat-ttl.js';

/** What the `Cache` facade needs of the module options. @internal */
export interface FacadeOptions {
  cacheId: string;
  refreshThreshold: number | undefined;
}

/** cache-manager options with no meaning here, and what to use instead. */
const UNSUPPORTED: Record<string, string> = {
  stores:
    'not supported yet (Keyv store instances): give Redis as l2: { url: "redis://…" } (L1 in process stays in front of it)',
  nonBlocking: 'not needed: Redis writes of a miss never delay the answer, and Redis failures never reach the caller',
  refreshAllStores: 'not needed: a refresh writes both tiers',
};

/**
 * Splits `CacheModule` options into the multi-level cache's (TTL 0 → the longest TTL) and the facade's; rejects
 * cache-manager options that have no meaning here, saying what to use. The rest is validated by
 * `MultiLevelCacheModule`. @internal
 */
export function splitCacheModuleOptions(options: CacheModuleOptions | undefined): {
  cache: MultiLevelCacheModuleOptions;
  facade: FacadeOptions;
} {
  const given = (options ?? {}) as CacheModuleOptions & Record<string, unknown>;
  if (typeof given !== 'object') invalidOption('CacheModule options', given, 'an object');
  for (const [option, instead] of Object.entries(UNSUPPORTED))
    if (given[option] !== undefined)
      throw new InvalidCacheOptionsError(UNSUPPORTED_CACHE_MODULE_OPTION(option, given[option], instead), option);
  const { refreshThreshold, cacheId, ttl, ...cache } = given;
  if (refreshThreshold !== undefined) checkCompatTtl('refreshThreshold', refreshThreshold);
  if (cacheId !== undefined && (typeof cacheId !== 'string' || cacheId.length === 0))
    invalidOption('cacheId', cacheId, 'a non-empty string');
  const mapped = compatTtl('ttl', ttl);
  return {
    cache: mapped === undefined ? cache : { ...cache, ttl: mapped },
    facade: { cacheId: cacheId ?? cache.namespace ?? 'cache', refreshThreshold },
  };
}
