import { randomBytes } from 'node:crypto';
import { inject } from 'vitest';

/** URL of the shared test Redis (started by the global setup, or REDIS_URL). */
export function redisUrl(): string {
  return inject('redisUrl');
}

/** A key prefix no other test uses, so tests can share one Redis without flushing it. */
export function uniquePrefix(label: string): string {
  return `t:${label}:${randomBytes(4).toString('hex')}`;
}
