import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { DemoConfig } from './demo-config.js';

/** A client for the gateway's own Redis use (orders, health): one Redis or a cluster, as configured. */
export function createRedisClient(config: DemoConfig, options: RedisOptions): Redis | Cluster | undefined {
  if (config.redisCluster) {
    const { enableOfflineQueue, lazyConnect } = options;
    return new Cluster(config.redisCluster, { redisOptions: options, enableOfflineQueue, lazyConnect });
  }
  if (config.redisUrl) return new Redis(config.redisUrl, options);
  return undefined;
}
