import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { withTimeout } from '../health/with-timeout.js';
import { DemoConfig } from './demo-config.js';
import { createRedisClient } from './redis-client.js';

/** QUIT flushes what is pending but waits for a Redis that may be gone; past this the socket is cut. */
const CLOSE_DEADLINE_MS = 1_000;

/**
 * The gateway's own Redis connection (orders, sessions, carts, rate limits); undefined in the embedded mode. Commands
 * fail after one reconnection attempt instead of queueing while Redis is away, so requests answer 503 instead of
 * hanging.
 */
@Injectable()
export class GatewayRedis implements OnApplicationShutdown {
  readonly client: Redis | Cluster | undefined;

  constructor(config: DemoConfig) {
    this.client = createRedisClient(config, { maxRetriesPerRequest: 1 });
    this.client?.on('error', () => {
      // Each command rejects while Redis is down, and the errors filter answers 503.
    });
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    await withTimeout(this.client.quit(), CLOSE_DEADLINE_MS).catch(() => undefined);
    this.client.disconnect();
  }
}
