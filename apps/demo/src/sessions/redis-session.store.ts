import type { SessionStore } from '@fastify/session';
import type { Session } from 'fastify';
import type { Cluster, Redis } from 'ioredis';

/**
 * Sessions in Redis, so any gateway serves any request of a session and a gateway that dies loses none. Each session
 * is one key, expiring with its cookie. A session holds almost nothing (its cart lives in a hash of its own, changed
 * atomically), so the store's whole-session writes cannot lose a concurrent update of the cart.
 */
export class RedisSessionStore implements SessionStore {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
    private readonly ttlMs: number,
  ) {}

  set(sessionId: string, session: Session, callback: (err?: unknown) => void): void {
    this.redis.set(this.key(sessionId), JSON.stringify(session), 'PX', this.ttlMs).then(() => callback(), callback);
  }

  get(sessionId: string, callback: (err: unknown, result?: Session | null) => void): void {
    this.redis.get(this.key(sessionId)).then((raw) => callback(null, parseSession(raw)), callback);
  }

  destroy(sessionId: string, callback: (err?: unknown) => void): void {
    this.redis.del(this.key(sessionId)).then(() => callback(), callback);
  }

  private key(sessionId: string): string {
    return `${this.prefix}:session:${sessionId}`;
  }
}

/** A record that is not a session object (another version's, corrupted) is no session: the client gets a new one. */
function parseSession(raw: string | null): Session | null {
  if (raw === null) return null;
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Session) : null;
  } catch {
    return null;
  }
}
