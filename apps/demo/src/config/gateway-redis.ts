import { Injectable, type OnApplicationShutdown } from '@nestjs/common';
import type { Cluster, Redis } from 'ioredis';
import { withTimeout } from '../health/with-timeout.js';
import { DemoConfig } from './demo-config.js';
import { createRedisClient } from './redis-client.js';

/** QUIT flushes what is pending but waits for a Redis that may be gone; past this the socket is cut. */
const CLOSE_DEADLINE_MS = 1_000;
/** Reconnection attempts back off to at most this, so service resumes within it once Redis is back. */
const MAX_RECONNECT_DELAY_MS = 300;

/**
 * The gateway's own Redis connection (orders, sessions, carts, rate limits); undefined in the embedded mode. While
 * Redis is away commands fail at once instead of queueing, so requests answer 503 at once instead of hanging, and
 * reconnection is retried every 300 ms at most.
 */
@Injectable()
export class GatewayRedis implements OnApplicationShutdown {
  readonly client: Redis | Cluster | undefined;

  constructor(config: DemoConfig) {
    this.client = createRedisClient(config, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      retryStrategy: (attempt) => Math.min(attempt * 50, MAX_RECONNECT_DELAY_MS),
    });
    this.client?.on('error', () => {
      // Each command rejects while Redis is down, and the errors filter answers 503.
    });
  }

  /** Resolves once connected (true), or false after `timeoutMs`: commands sent before would fail. */
  async ready(timeoutMs: number): Promise<boolean> {
    const client = this.client;
    if (!client) return false;
    if (client.status === 'ready') return true;
    const connected = new Promise<true>((resolve) => client.once('ready', () => resolve(true)));
    return withTimeout(connected, timeoutMs).catch(() => false);
  }

  async onApplicationShutdown(): Promise<void> {
    if (!this.client) return;
    await withTimeout(this.client.quit(), CLOSE_DEADLINE_MS).catch(() => undefined);
    this.client.disconnect();
  }
}
