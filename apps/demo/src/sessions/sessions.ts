import fastifyCookie from '@fastify/cookie';
import fastifySession from '@fastify/session';
import { Logger } from '@nestjs/common';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyInstance } from 'fastify';
import type { Cluster, Redis } from 'ioredis';
import { randomBytes } from 'node:crypto';
import type { DemoConfig } from '../config/demo-config.js';
import type { GatewayRedis } from '../config/gateway-redis.js';
import { withTimeout } from '../health/with-timeout.js';
import { RedisSessionStore } from './redis-session.store.js';

export const SESSION_COOKIE = 'cart_session';
export const SESSION_TTL_MS = 7 * 24 * 3600_000;
const SECRET_AGREEMENT_TIMEOUT_MS = 2_000;

declare module 'fastify' {
  interface Session {
    /** Set once the session has a cart, so only sessions with one are stored. */
    hasCart?: boolean;
  }
}

/**
 * Server-side sessions behind a signed, `HttpOnly`, `SameSite=Lax` cookie (Lax: a cross-site form or fetch does
 * not carry it, so the cart routes need no CSRF token). With Redis, sessions live there and every gateway signs with
 * the same secret; embedded, they live in memory.
 */
export async function installSessions(
  app: NestFastifyApplication,
  config: DemoConfig,
  gatewayRedis: GatewayRedis,
): Promise<void> {
  const redis = (await gatewayRedis.ready(SECRET_AGREEMENT_TIMEOUT_MS)) ? gatewayRedis.client : undefined;
  const store = gatewayRedis.client && new RedisSessionStore(gatewayRedis.client, config.keyPrefix, SESSION_TTL_MS);
  const fastify = app.getHttpAdapter().getInstance() as unknown as FastifyInstance;
  await fastify.register(fastifyCookie);
  await fastify.register(fastifySession, {
    secret: await sessionSecret(config, redis),
    cookieName: SESSION_COOKIE,
    saveUninitialized: false,
    // Path /cart: only the cart routes read or make sessions, so no other request pays for one.
    cookie: { httpOnly: true, sameSite: 'lax', secure: config.cookieSecure, path: '/cart', maxAge: SESSION_TTL_MS },
    ...(store ? { store } : {}),
  });
}

/**
 * SESSION_SECRET when set. Otherwise gateways sharing a Redis agree on one through it (the first to start writes a
 * random one, the others read it), and an embedded gateway makes its own.
 */
async function sessionSecret(config: DemoConfig, redis: Redis | Cluster | undefined): Promise<string> {
  if (config.sessionSecret) return config.sessionSecret;
  const generated = randomBytes(32).toString('hex');
  if (!redis) {
    if (config.mode !== 'embedded') warnUnsharedSecret('not reachable');
    return generated;
  }
  const key = `${config.keyPrefix}:session-secret`;
  try {
    await withTimeout(redis.set(key, generated, 'NX'), SECRET_AGREEMENT_TIMEOUT_MS);
    return (await withTimeout(redis.get(key), SECRET_AGREEMENT_TIMEOUT_MS)) ?? generated;
  } catch (error) {
    warnUnsharedSecret((error as Error).message);
    return generated;
  }
}

function warnUnsharedSecret(reason: string): void {
  new Logger('Sessions').warn(
    `Redis unreachable at start-up (${reason}): this gateway signs sessions with a secret of its own, so other ` +
      'gateways will not accept its session cookies; set SESSION_SECRET on every gateway to avoid this',
  );
}
