import { invalidOption, MAX_TTL_MS } from '../multi-level-cache.options.js';

/**
 * cache-manager's TTL arguments (ms) as this cache's TTL: `undefined` keeps the default, 0 (cache-manager's "no
 * expiry") becomes the longest TTL this cache keeps (365 days), anything else goes through the shared TTL bounds.
 * @internal
 */
export function compatTtl(option: string, ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  checkCompatTtl(option, ttl);
  return ttl === 0 ? MAX_TTL_MS : (ttl as number);
}

/** Throws `InvalidCacheOptionsError` naming `option` unless `ttl` is 0 or a TTL this cache takes. @internal */
export function checkCompatTtl(option: string, ttl: unknown): void {
  if (typeof ttl === 'number' && Number.isInteger(ttl) && ttl >= 0 && ttl <= MAX_TTL_MS) return;
  invalidOption(
    option,
    ttl,
    `an integer number of milliseconds from 0 (no expiry: kept ${MAX_TTL_MS} ms, 365 days) to ${MAX_TTL_MS} (365 days)`,
  );
}
