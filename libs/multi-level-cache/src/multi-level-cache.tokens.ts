import { MultiLevelCache } from './multi-level-cache.service.js';

/**
 * The injection token of a cache: `getCacheToken(name)` for one registered with `forRoot({ name })`, the
 * `MultiLevelCache` class itself for the default one (no name).
 * @publicApi
 */
export function getCacheToken(name?: string): string | typeof MultiLevelCache {
  return name === undefined ? MultiLevelCache : `MultiLevelCache:${name}`;
}
