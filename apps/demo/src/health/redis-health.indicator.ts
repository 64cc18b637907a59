import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import type { Cluster, Redis } from 'ioredis';
import { createRedisClient } from '../config/redis-client.js';
import { DemoConfig } from '../config/demo-config.js';
import { withTimeout } from './with-timeout.js';

/** PING on a connection of its own; a Redis outage degrades the gateway (the cache fails open) rather than failing it. */
@Injectable()
export class RedisHealthIndicator implements OnApplicationShutdown {
  private readonly redis: Redis | Cluster | undefined;

  constructor(
    config: DemoConfig,
    private readonly indicators: HealthIndicatorService,
  ) {
    this.redis = createRedisClient(config, { lazyConnect: true, enableOfflineQueue: false, maxRetriesPerRequest: 0 });
    if (!this.redis) return;
    this.redis.on('error', () => {
      // Reported by the next health check.
    });
    void this.redis.connect().catch(() => undefined);
  }

  async check() {
    const session = this.indicators.check('redis');
    if (!this.redis) return session.up({ mode: 'embedded (no Redis)' });
    try {
      await withTimeout(this.redis.ping(), 500);
      return session.up();
    } catch (error) {
      return session.degraded({
        message: `Redis unreachable: ${(error as Error).message}; serving from L1 and upstreams`,
      });
    }
  }

  onApplicationShutdown(): void {
    this.redis?.disconnect();
  }
}
