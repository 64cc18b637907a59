import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';

export interface UpstreamAddress {
  id: string;
  host: string;
  port: number;
}

/** Everything the gateway reads from its environment, validated once at start-up. */
export class DemoConfig {
  constructor(
    readonly port: number,
    readonly host: string,
    /** Set → distributed mode (Redis L2 + BullMQ); unset → embedded mode. */
    readonly redisUrl: string | undefined,
    /** Upstream nodes to balance across. */
    readonly upstreams: UpstreamAddress[],
    readonly adminToken: string,
    /** True when ADMIN_TOKEN was not set and a random one was generated (printed at start-up). */
    readonly adminTokenGenerated: boolean,
    /** Whether this instance runs task workers (false: a web-only gateway). */
    readonly workers: boolean,
    readonly cacheTtlMs: number,
    /** Names this gateway instance on the dashboard and in logs. */
    readonly instanceId: string,
    /** Prefix of every Redis key and channel the gateway uses; instances that share it act as one system. */
    readonly keyPrefix: string,
  ) {}

  get mode(): 'embedded' | 'distributed' {
    return this.redisUrl ? 'distributed' : 'embedded';
  }

  static fromEnv(env: NodeJS.ProcessEnv = process.env): DemoConfig {
    const adminToken = env.ADMIN_TOKEN?.trim();
    return new DemoConfig(
      integer(env, 'PORT', 3000, 0, 65535),
      env.HOST ?? '127.0.0.1',
      readRedisUrl(env),
      readUpstreams(env),
      adminToken || randomBytes(16).toString('hex'),
      !adminToken,
      boolean(env, 'WORKERS', true),
      integer(env, 'CACHE_TTL_MS', 30_000, 1, 86_400_000),
      env.INSTANCE_ID?.trim() || `${hostname()}:${process.pid}`,
      readKeyPrefix(env),
    );
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

function readKeyPrefix(env: NodeJS.ProcessEnv): string {
  const raw = env.KEY_PREFIX?.trim() || 'demo';
  if (!/^[\w:{}.-]{1,64}$/.test(raw)) {
    throw new DemoConfigError(`KEY_PREFIX=${raw} is not valid: use 1-64 letters, digits or : { } . - _`);
  }
  return raw;
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
