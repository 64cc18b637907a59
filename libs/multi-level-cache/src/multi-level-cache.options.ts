import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type {
  ClusterSeed,
  KeyvStoreLike,
  L1Options,
  L2Options,
  LeaseOptions,
  MultiLevelCacheModuleOptions,
} from './interfaces/multi-level-cache-options.interface.js';
import didYouMean from 'didyoumean2';
import { INVALID_OPTION, UNKNOWN_KEY, UNKNOWN_OPTION } from './multi-level-cache.messages.js';

/** How like a known key an unknown one must be to be suggested: `softTimeout` → `softTimeoutMs` is, `redisUrl` → `refreshAhead` is not. */
const TYPO = { threshold: 0.55 };

/** Options with every default filled in. @internal */
export interface ResolvedOptions {
  /** Set for a named cache. */
  name: string | undefined;
  namespace: string;
  ttl: number;
  nullTtl: number | undefined;
  jitter: number;
  grace: number;
  l1: { maxEntries: number; maxSizeBytes: number | undefined; ttl: number; offlineTtl: number } | undefined;
  l2:
    | {
        /** Set for a single Redis. */
        url: string | undefined;
        /** Seed URLs, set for a Redis Cluster. */
        cluster: string[] | undefined;
        /** Set for a Keyv store instead of Redis. */
        store: KeyvStoreLike | undefined;
        timeoutMs: number;
        breakerThreshold: number;
        breakerHalfOpenAfterMs: number;
        connectTimeoutMs: number;
        bus: boolean;
      }
    | undefined;
  lease: { ttlMs: number; waitMs: number; pollMs: number };
  failSafeMaxMs: number;
  softTimeoutMs: number | undefined;
  /** 0: off. */
  refreshAhead: number;
}

const KNOWN = [
  'name',
  'namespace',
  'ttl',
  'l1',
  'l2',
  'nullTtl',
  'jitter',
  'grace',
  'lease',
  'failSafeMaxMs',
  'softTimeoutMs',
  'refreshAhead',
  'isGlobal',
];

/**
 * Every key of an options interface, checked by the compiler both ways: a key missing from the list, or one the
 * interface does not declare, fails the typecheck, so the lists below cannot drift from the interfaces.
 */
const keysOf =
  <T>() =>
  <const K extends readonly (keyof T & string)[]>(
    keys: K & ([Exclude<keyof T, K[number]>] extends [never] ? unknown : { missing: Exclude<keyof T, K[number]> }),
  ): readonly string[] =>
    keys;

const L1_KEYS = keysOf<L1Options>()(['maxEntries', 'maxSizeBytes', 'ttl', 'offlineTtl']);
const L2_KEYS = keysOf<L2Options>()([
  'url',
  'cluster',
  'store',
  'timeoutMs',
  'breakerThreshold',
  'breakerHalfOpenAfterMs',
  'connectTimeoutMs',
  'bus',
]);
const LEASE_KEYS = keysOf<LeaseOptions>()(['ttlMs', 'waitMs', 'pollMs']);
const SEED_KEYS = keysOf<ClusterSeed>()(['host', 'port']);

/**
 * Throws `InvalidCacheOptionsError` for the first own enumerable key of `options` that is not in `known`, naming it
 * with its path, the nearest known key and the known ones: a misspelled key would otherwise be ignored. `path`:
 * where the object sits (`l1`, `l2.cluster[0]`, `@Cached(Class.method)`), or undefined for the module options
 * themselves. Only for plain option objects the user writes: never a client, a store, a class instance or cached
 * data. Allocates nothing when every key is known. @internal
 */
export function checkKnownKeys(options: object, path: string | undefined, known: readonly string[]): void {
  for (const key in options) {
    if (!Object.hasOwn(options, key) || known.includes(key)) continue;
    const suggestion = didYouMean(key, [...known], TYPO) ?? undefined;
    if (path === undefined) throw new InvalidCacheOptionsError(UNKNOWN_OPTION(key, suggestion, known), key);
    throw new InvalidCacheOptionsError(UNKNOWN_KEY(path, key, suggestion, known), `${path}.${key}`);
  }
}

/** Validates module options at boot and fills defaults; throws `InvalidCacheOptionsError` naming the bad option. */
export function resolveOptions(raw: MultiLevelCacheModuleOptions | undefined): ResolvedOptions {
  const o = (raw ?? {}) as MultiLevelCacheModuleOptions & Record<string, unknown>;
  if (typeof o !== 'object') fail('options', o, 'an object');
  checkKnownKeys(o, undefined, KNOWN);
  if (o.name !== undefined && (typeof o.name !== 'string' || o.name.length === 0))
    fail('name', o.name, 'a non-empty string (the name of the cache, for @InjectCache(name))');
  const namespace = o.namespace ?? o.name ?? 'cache';
  if (typeof namespace !== 'string' || namespace.length === 0) fail('namespace', namespace, 'a non-empty string');
  const ttl = millis('ttl', o.ttl, TTL, 60_000);
  if (o.l1 !== undefined && o.l1 !== false) {
    if (!isPlainOptions(o.l1)) fail('l1', o.l1, '{ maxEntries?, maxSizeBytes?, ttl?, offlineTtl? } or false');
    checkKnownKeys(o.l1, 'l1', L1_KEYS);
  }
  const l1 =
    o.l1 === false
      ? undefined
      : {
          maxEntries: positiveInt('l1.maxEntries', o.l1?.maxEntries, 10_000),
          maxSizeBytes:
            o.l1?.maxSizeBytes === undefined ? undefined : positiveInt('l1.maxSizeBytes', o.l1.maxSizeBytes, 0),
          ttl: millis('l1.ttl', o.l1?.ttl, TTL, MAX_TTL_MS),
          offlineTtl: millis('l1.offlineTtl', o.l1?.offlineTtl, TIMER, 1_000),
        };
  let l2: ResolvedOptions['l2'];
  if (o.l2 !== undefined && o.l2 !== false) {
    if (!isPlainOptions(o.l2)) fail('l2', o.l2, '{ url }, { cluster }, { store } or false');
    checkKnownKeys(o.l2, 'l2', L2_KEYS);
    const { url, cluster, store } = o.l2;
    if ([url, cluster, store].filter((v) => v !== undefined).length !== 1)
      fail(
        'l2',
        o.l2,
        'exactly one of l2.url (one Redis), l2.cluster (Redis Cluster seeds) and l2.store (a Keyv store adapter)',
      );
    if (store !== undefined && !isKeyvStore(store))
      fail(
        'l2.store',
        store,
        'a Keyv store adapter (an object with get, set and delete methods), e.g. new KeyvSqlite(uri)',
      );
    if (store !== undefined && o.l2.bus === true)
      fail('l2.bus', true, 'false or left out with l2.store: the invalidation bus needs Redis pub/sub');
    if (url !== undefined && (typeof url !== 'string' || !REDIS_URL.test(url)))
      fail('l2.url', url, 'a redis:// or rediss:// URL');
    l2 = {
      url,
      cluster: cluster === undefined ? undefined : clusterSeeds(cluster),
      store,
      timeoutMs: millis('l2.timeoutMs', o.l2.timeoutMs, TIMER, 50),
      breakerThreshold: positiveInt('l2.breakerThreshold', o.l2.breakerThreshold, 5),
      breakerHalfOpenAfterMs: millis('l2.breakerHalfOpenAfterMs', o.l2.breakerHalfOpenAfterMs, TIMER, 1_000),
      connectTimeoutMs: millis('l2.connectTimeoutMs', o.l2.connectTimeoutMs, TIMER, 2_000),
      bus: o.l2.bus ?? store === undefined,
    };
    if (typeof l2.bus !== 'boolean') fail('l2.bus', l2.bus, 'a boolean');
  }
  if (!l1 && !l2) fail('l1', o.l1, 'an L1 or an L2 tier (both are off)');
  if (o.lease !== undefined) {
    if (!isPlainOptions(o.lease)) fail('lease', o.lease, '{ ttlMs?, waitMs?, pollMs? }');
    checkKnownKeys(o.lease, 'lease', LEASE_KEYS);
  }
  const jitter = o.jitter ?? 0;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter < 1))
    fail('jitter', jitter, 'a number from 0 (inclusive) to 1 (exclusive)');
  return {
    name: o.name,
    namespace,
    ttl,
    nullTtl: millis('nullTtl', o.nullTtl, TTL, undefined),
    jitter,
    grace: millis('grace', o.grace, TTL_OR_ZERO, 0),
    l1,
    l2,
    lease: {
      ttlMs: millis('lease.ttlMs', o.lease?.ttlMs, TIMER, 5_000),
      waitMs: millis('lease.waitMs', o.lease?.waitMs, TIMER_OR_ZERO, 5_000),
      pollMs: millis('lease.pollMs', o.lease?.pollMs, TIMER, 50),
    },
    failSafeMaxMs: millis('failSafeMaxMs', o.failSafeMaxMs, TIMER_OR_ZERO, 0),
    softTimeoutMs: millis('softTimeoutMs', o.softTimeoutMs, TIMER, undefined),
    refreshAhead: fraction('refreshAhead', o.refreshAhead, 0),
  };
}

const REDIS_URL = /^rediss?:\/\//;

/** An object literal's shape: not null, not an array. */
function isPlainOptions(value: unknown): value is object {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isKeyvStore(store: unknown): store is KeyvStoreLike {
  if (typeof store !== 'object' || store === null) return false;
  const { get, set, delete: del } = store as Record<string, unknown>;
  return typeof get === 'function' && typeof set === 'function' && typeof del === 'function';
}

/** Cluster seeds as URLs; `{ host, port }` seeds become `redis://host:port`. */
function clusterSeeds(seeds: unknown): string[] {
  const expected = 'a non-empty array of { host, port } or redis:// URLs';
  if (!Array.isArray(seeds) || seeds.length === 0) fail('l2.cluster', seeds, expected);
  return seeds.map((seed: unknown, i) => {
    const option = `l2.cluster[${i}]`;
    if (typeof seed === 'string') {
      if (!REDIS_URL.test(seed)) fail(option, seed, 'a redis:// or rediss:// URL');
      return seed;
    }
    if (!isPlainOptions(seed)) fail(option, seed, '{ host, port } or a redis:// URL');
    // The seed becomes a URL of host and port only: any other key (a password, tls) would be dropped unseen.
    checkKnownKeys(seed, option, SEED_KEYS);
    const { host, port } = seed as Partial<{ host: unknown; port: unknown }>;
    if (typeof host !== 'string' || host.length === 0) fail(option, seed, '{ host, port } or a redis:// URL');
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
      fail(`${option}.port`, port, 'a TCP port (1–65535)');
    return `redis://${host.includes(':') ? `[${host}]` : host}:${port}`;
  });
}

/**
 * Node fires a timer of 2^31 ms or more after about 1 ms, so every timer option stays at or below this (shared by the
 * three libs). @internal
 */
export const MAX_TIMER_MS = 2_147_483_647;
/** A TTL is not a timer (it is compared with a clock, and Redis takes any PX), but 9e15 ms is a mistake: one year. */
export const MAX_TTL_MS = 365 * 24 * 3_600_000;

interface MsRule {
  /** Smallest allowed value: 0 or 1. */
  min: 0 | 1;
  max: number;
}

const TIMER: MsRule = { min: 1, max: MAX_TIMER_MS };
const TIMER_OR_ZERO: MsRule = { min: 0, max: MAX_TIMER_MS };
const TTL: MsRule = { min: 1, max: MAX_TTL_MS };
const TTL_OR_ZERO: MsRule = { min: 0, max: MAX_TTL_MS };

/**
 * The one check of every millisecond option, at boot and at call time: a finite integer within `rule`. Returns the
 * value, or `fallback` when it is undefined.
 */
function millis<F extends number | undefined>(option: string, value: unknown, rule: MsRule, fallback: F): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < rule.min || value > rule.max) {
    const bound =
      rule.max === MAX_TIMER_MS ? `${MAX_TIMER_MS} (the largest timer Node runs)` : `${rule.max} (365 days)`;
    fail(option, value, `an integer number of milliseconds from ${rule.min} to ${bound}`);
  }
  return value;
}

const CALL_RULES = {
  ttl: TTL,
  nullTtl: TTL,
  grace: TTL_OR_ZERO,
  failSafeMaxMs: TIMER_OR_ZERO,
  softTimeoutMs: TIMER,
} as const;

/** Per-call millisecond options through the same check as the module options. @internal */
export function checkCallMs(option: keyof typeof CALL_RULES, value: unknown): void {
  millis(option, value, CALL_RULES[option], undefined);
}

/** `refreshAhead`, at boot and per call: a fraction strictly between 0 and 1 (0 only as the module's "off"). */
export function fraction<F extends number | undefined>(option: string, value: unknown, fallback: F): number | F {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !(value > 0 && value < 1))
    fail(option, value, 'a fraction of the TTL between 0 and 1 (exclusive), e.g. 0.8; leave it out to turn it off');
  return value;
}

function positiveInt(option: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(option, value, 'an integer ≥ 1');
  return value;
}

/** Throws `InvalidCacheOptionsError` for a bad option. @internal */
export function invalidOption(option: string, value: unknown, expected: string): never {
  return fail(option, value, expected);
}

function fail(option: string, value: unknown, expected: string): never {
  throw new InvalidCacheOptionsError(INVALID_OPTION(option, value, expected), option);
}
