import { Injectable } from '@nestjs/common';
import { MultiLevelCache } from '../multi-level-cache.service.js';

/**
 * What a `@nestjs/terminus` health indicator returns (`{ [key]: { status, ...details } }`), built here without
 * importing terminus, so it stays an optional peer. @publicApi
 */
export type CacheHealthIndicatorResult = Record<
  string,
  { status: 'up' | 'degraded'; l2: string; bus: string; l1Entries: number }
>;

/**
 * A health indicator for `@nestjs/terminus`: `up` while the cache's tiers work, `degraded` while Redis is unusable
 * (breaker not closed) or the invalidation bus is down. Never `down`: the cache keeps serving from L1 and the
 * loaders, so it should not take an instance out of rotation.
 *
 * ```ts
 * @Get('ready') @HealthCheck()
 * ready() { return this.health.check([() => this.cacheHealth.isHealthy('cache')]); }
 * ```
 * @publicApi
 */
@Injectable()
export class MultiLevelCacheHealthIndicator {
  constructor(private readonly cache: MultiLevelCache) {}

  isHealthy(key = 'cache'): CacheHealthIndicatorResult {
    const { breaker, bus, l1Entries } = this.cache.stats();
    const l2 = breaker === 'disabled' ? 'off' : breaker === 'closed' ? 'connected' : `breaker ${breaker}`;
    const busState = !bus.enabled ? 'off' : bus.connected ? 'live' : 'down';
    const degraded = (breaker !== 'disabled' && breaker !== 'closed') || (bus.enabled && !bus.connected);
    return { [key]: { status: degraded ? 'degraded' : 'up', l2, bus: busState, l1Entries } };
  }
}
