import { SetMetadata, type ExecutionContext } from '@nestjs/common';
import { invalidOption } from '../multi-level-cache.options.js';
import { checkCompatTtl } from '../compat/compat-ttl.js';
import { CACHE_KEY_METADATA, CACHE_TTL_METADATA, CACHE_VARY_METADATA } from './cache-route.constants.js';

/** A route's cache key, fixed or computed from the request. */
export type CacheKeyFactory = (context: ExecutionContext) => string | undefined;
/** A route's TTL in milliseconds, fixed or computed from the request. */
export type CacheTtlFactory = (context: ExecutionContext) => number | Promise<number>;

/**
 * The cache key of a route's answers, instead of method + path + sorted query. Headers named by `@CacheVary` are
 * still appended, and every safety rule still applies. Same metadata as `@nestjs/cache-manager`'s `@CacheKey`.
 * @publicApi
 */
export const CacheKey = (key: string | CacheKeyFactory): MethodDecorator & ClassDecorator => {
  if (typeof key === 'function') return SetMetadata(CACHE_KEY_METADATA, key);
  if (typeof key !== 'string' || key.length === 0)
    invalidOption('@CacheKey(key)', key, 'a non-empty string or a function (context) => string');
  return SetMetadata(CACHE_KEY_METADATA, key);
};

/**
 * TTL of a route's cached answers in milliseconds (0: the longest TTL the cache keeps, 365 days, as cache-manager's
 * "no expiry"). Same metadata as `@nestjs/cache-manager`'s `@CacheTTL`.
 * @publicApi
 */
export const CacheTTL = (ttl: number | CacheTtlFactory): MethodDecorator & ClassDecorator => {
  if (typeof ttl !== 'function') checkCompatTtl('@CacheTTL(ttl)', ttl);
  return SetMetadata(CACHE_TTL_METADATA, ttl);
};

/**
 * Request headers the route's answers depend on: each becomes part of the key and is sent back in `Vary`. A request
 * carrying `Authorization` or a cookie is cached only on a route that varies on that header (`@CacheVary('authorization')`,
 * `@CacheVary('cookie')`); otherwise it bypasses the cache, so one user's answer never reaches another.
 * @publicApi
 */
export const CacheVary = (...headers: string[]): MethodDecorator & ClassDecorator => {
  headers.forEach((header, i) => {
    if (typeof header !== 'string' || !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(header))
      invalidOption(`@CacheVary(...headers)[${i}]`, header, 'an HTTP header name such as "accept-language"');
  });
  return SetMetadata(CACHE_VARY_METADATA, [...new Set(headers.map((h) => h.toLowerCase()))].toSorted());
};
