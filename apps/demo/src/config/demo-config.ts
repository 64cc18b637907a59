import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { isHost } from '../validation/is-host.validator.js';

export interface UpstreamAddress {
  id: string;
  host: string;
  port: number;
}

export interface RedisSeed {
  host: string;
  port: number;
}

/** Everything the gateway reads from its environment, validated once at start-up. */
export interface DemoSettings {
  port: number;
  host: string;
  /** REDIS_URL: the distributed mode (Redis L2 + BullMQ). */
  redisUrl?: string;
  /** REDIS_CLUSTER: the scaled-out mode, on a Redis Cluster discovered from these seeds. */
  redisCluster?: RedisSeed[];
  /** Upstream nodes to balance across. */
  upstreams: UpstreamAddress[];
  adminToken: string;
  /** True when ADMIN_TOKEN was not set and a random one was generated (printed at start-up). */
  adminTokenGenerated: boolean;
  /** Whether this instance runs task workers (false: a web-only gateway). */
  workers: boolean;
  cacheTtlMs: number;
  /** Names this gateway instance on the dashboard and in logs. */
  instanceId: string;
  /** Prefix of every Redis key and channel the gateway uses; instances that share it act as one system. */
  keyPrefix: string;
  /** Slow clients: the most a request may take to arrive in full (headers and body), and idle keep-alive time. */
  requestTimeoutMs: number;
  keepAliveTimeoutMs: number;
  /** Open connections beyond this are refused, so a flood of idle sockets cannot exhaust the process. */
  maxConnections: number;
  /** `POST /orders` and `POST /cart/checkout` per client (IP address) per minute, across all gateways on one Redis. */
  orderRateLimit: number;
  /** Signs the session cookie; gateways that share sessions need the same one (shared through Redis when unset). */
  sessionSecret?: string;
  /** Whether the session cookie is `Secure` (only sent over HTTPS); on behind a TLS-terminating proxy. */
  cookieSecure: boolean;
  /** Orders kept in memory in the embedded mode (the oldest go first; Redis keeps each for 7 days). */
  orderRetentionCount: number;
  /** Finished tasks the queue keeps for `GET /orders/:id`, completed and dead each (memory and Redis alike). */
  taskRetentionCount: number;
}

export class DemoConfig {
  readonly port: number;
  readonly host: string;
  readonly redisUrl?: string;
  readonly redisCluster?: RedisSeed[];
  readonly upstreams: UpstreamAddress[];
  readonly adminToken: string;
  readonly adminTokenGenerated: boolean;
  readonly workers: boolean;
  readonly cacheTtlMs: number;
  readonly instanceId: string;
  readonly keyPrefix: string;
  readonly requestTimeoutMs: number;
  readonly keepAliveTimeoutMs: number;
  readonly maxConnections: number;
  readonly orderRateLimit: number;
  readonly sessionSecret?: string;
  readonly cookieSecure: boolean;
  readonly orderRetentionCount: number;
  readonly taskRetentionCount: number;

  constructor(settings: DemoSettings) {
    Object.assign(this, settings);
  }

  get mode(): 'embedded' | 'distributed' | 'scaled-out' {
    if (this.redisCluster) return 'scaled-out';
    return this.redisUrl ? 'distributed' : 'embedded';
  }

  /** BullMQ needs every key of a queue in one cluster slot: on a cluster the prefix carries a hash tag. */
  get queuePrefix(): string {
    return this.redisCluster && !/\{[^}]+\}/.test(this.keyPrefix) ? `{${this.keyPrefix}}` : this.keyPrefix;
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
    const adminToken = readAdminToken(env);
    const redisUrl = readRedisUrl(env);
    const redisCluster = readRedisCluster(env);
    if (redisUrl && redisCluster) {
      throw new DemoConfigError(
        'REDIS_URL and REDIS_CLUSTER are both set: use REDIS_URL for one Redis, REDIS_CLUSTER for a cluster.',
      );
    }
    return new DemoConfig({
      port: integer(env, 'PORT', 3000, 0, 65535),
      host: readHost(env),
      redisUrl,
      redisCluster,
      upstreams: readUpstreams(env),
      adminToken: adminToken || randomBytes(16).toString('hex'),
      adminTokenGenerated: !adminToken,
      workers: boolean(env, 'WORKERS', true),
      cacheTtlMs: integer(env, 'CACHE_TTL_MS', 30_000, 1, 86_400_000),
      instanceId: env.INSTANCE_ID?.trim() || `${hostname()}:${process.pid}`,
      keyPrefix: readKeyPrefix(env),
      requestTimeoutMs: integer(env, 'REQUEST_TIMEOUT_MS', 10_000, 100, 600_000),
      keepAliveTimeoutMs: integer(env, 'KEEP_ALIVE_TIMEOUT_MS', 5_000, 100, 600_000),
      maxConnections: integer(env, 'MAX_CONNECTIONS', 2_048, 1, 1_000_000),
      orderRateLimit: integer(env, 'ORDER_RATE_LIMIT', 120, 1, 1_000_000),
      sessionSecret: readSessionSecret(env),
      cookieSecure: boolean(env, 'COOKIE_SECURE', false),
      orderRetentionCount: integer(env, 'ORDER_RETENTION_COUNT', 10_000, 1, 10_000_000),
      taskRetentionCount: integer(env, 'TASK_RETENTION_COUNT', 10_000, 1, 10_000_000),
    });
  }
}

export class DemoConfigError extends Error {
  override readonly name = 'DemoConfigError';
}

function integer(env: NodeJS.ProcessEnv, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new DemoConfigError(`${name}=${raw} is not valid: expected an integer from ${min} to ${max}.`);
  }
  return value;
}

function boolean(env: NodeJS.ProcessEnv, name: string, fallback: boolean): boolean {
  const raw = env[name]?.toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  throw new DemoConfigError(`${name}=${env[name]} is not valid: use true or false.`);
}

const MIN_ADMIN_TOKEN_LENGTH = 16;

function readAdminToken(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.ADMIN_TOKEN?.trim();
  if (!raw) return undefined;
  if (raw.length < MIN_ADMIN_TOKEN_LENGTH) {
    throw new DemoConfigError(
      `ADMIN_TOKEN is too short (${raw.length} characters): use at least ${MIN_ADMIN_TOKEN_LENGTH} random characters, ` +
        'e.g. `openssl rand -hex 16`, or leave it unset to get a generated one.',
    );
  }
  return raw;
}

function readSessionSecret(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.SESSION_SECRET?.trim();
  if (!raw) return undefined;
  if (raw.length < 32) {
    throw new DemoConfigError(
      `SESSION_SECRET is too short (${raw.length} characters): use at least 32 random characters, e.g. \`openssl rand -hex 32\`.`,
    );
  }
  return raw;
}

function readHost(env: NodeJS.ProcessEnv): string {
  const raw = env.HOST?.trim();
  if (!raw) return '127.0.0.1';
  if (!isHost(raw)) {
    throw new DemoConfigError(
      `HOST=${raw} is not valid: expected an address or host name to listen on, e.g. 127.0.0.1, 0.0.0.0 or ::.`,
    );
  }
  return raw;
}

function readKeyPrefix(env: NodeJS.ProcessEnv): string {
  const raw = env.KEY_PREFIX?.trim() || 'demo';
  if (!/^[\w:{}.-]{1,64}$/.test(raw)) {
    throw new DemoConfigError(`KEY_PREFIX=${raw} is not valid: use 1-64 letters, digits or : { } . - _`);
  }
  return raw;
}

/** REDIS_CLUSTER=host:port,host:port (seed nodes; the rest of the cluster is discovered). */
function readRedisCluster(env: NodeJS.ProcessEnv): RedisSeed[] | undefined {
  const raw = env.REDIS_CLUSTER?.trim();
  if (!raw) return undefined;
  return raw.split(',').map((item) => {
    const match = /^([\w.-]+):(\d{1,5})$/.exec(item.trim());
    const port = match ? Number(match[2]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new DemoConfigError(`REDIS_CLUSTER entry "${item}" is not valid: expected host:port, comma-separated.`);
    }
    return { host: match[1], port };
  });
}

function readRedisUrl(env: NodeJS.ProcessEnv): string | undefined {
  const raw = env.REDIS_URL?.trim();
  if (!raw) return undefined;
  if (!/^rediss?:\/\/[^/]+/.test(raw)) {
    throw new DemoConfigError(`REDIS_URL=${raw} is not valid: expected redis://host:port (or rediss:// for TLS).`);
  }
  return raw;
}

const DEFAULT_UPSTREAMS = '127.0.0.1:4001,127.0.0.1:4002,127.0.0.1:4003';

/** UPSTREAMS=host:port,host:port (ids default to host:port) or id=host:port,… */
function readUpstreams(env: NodeJS.ProcessEnv): UpstreamAddress[] {
  const raw = env.UPSTREAMS?.trim() || DEFAULT_UPSTREAMS;
  return raw.split(',').map((item) => {
    const match = /^(?:([\w.-]+)=)?([\w.-]+):(\d{1,5})$/.exec(item.trim());
    const port = match ? Number(match[3]) : NaN;
    if (!match || port < 1 || port > 65535) {
      throw new DemoConfigError(
        `UPSTREAMS entry "${item}" is not valid: expected host:port or id=host:port, comma-separated.`,
      );
    }
    return { id: match[1] ?? `${match[2]}:${port}`, host: match[2], port };
  });
}
