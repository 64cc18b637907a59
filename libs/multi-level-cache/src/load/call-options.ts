import type { CacheWrapOptions } from '../interfaces/cache-call-options.interface.js';
import { checkCallMs, fraction, invalidOption, type ResolvedOptions } from '../multi-level-cache.options.js';
import type { ReaderLimits } from '../redis/redis-tier.js';

/** Per-call options after defaults. @internal */
export interface CallOptions {
  ttl: number | undefined;
  nullTtl: number | undefined;
  tags: readonly string[] | undefined;
  grace: number;
  lease: boolean;
  failSafeMaxMs: number;
  softTimeoutMs: number | undefined;
  /** 0: off. */
  refreshAhead: number;
  /** What this call would give a value it loads: the freshness it accepts from Redis is capped by it. */
  limits: ReaderLimits;
}

/** Validates per-call options (the module's checks) and fills them from the module's defaults. @internal */
export function resolveCallOptions(
  options: CacheWrapOptions,
  defaults: ResolvedOptions,
  leaseByDefault: boolean,
): CallOptions {
  checkCallMs('ttl', options.ttl);
  checkCallMs('grace', options.grace);
  checkCallMs('nullTtl', options.nullTtl);
  checkCallMs('failSafeMaxMs', options.failSafeMaxMs);
  checkCallMs('softTimeoutMs', options.softTimeoutMs);
  if (options.tags !== undefined && !isStringArray(options.tags))
    invalidOption('tags', options.tags, 'an array of strings');
  const grace = options.grace ?? defaults.grace;
  return {
    ttl: options.ttl,
    nullTtl: options.nullTtl,
    tags: options.tags && options.tags.length > 0 ? options.tags : undefined,
    grace,
    lease: options.lease ?? leaseByDefault,
    failSafeMaxMs: options.failSafeMaxMs ?? defaults.failSafeMaxMs,
    softTimeoutMs: options.softTimeoutMs ?? defaults.softTimeoutMs,
    refreshAhead: fraction('refreshAhead', options.refreshAhead, undefined) ?? defaults.refreshAhead,
    limits: { ttl: options.ttl ?? defaults.ttl, grace },
  };
}

/** @internal */
export function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}
