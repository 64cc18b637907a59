import type { Logger } from '@nestjs/common';
import { encodeArgs, shortenKey } from './codec/cache-key.js';
import { unencodedRoot } from './codec/value-codec.js';
import type { MethodBinding } from './decorators/method-binding.js';
import { CacheSerializationError } from './errors/cache-serialization.error.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { CachedOptions, CacheEvictOptions } from './interfaces/cached-options.interface.js';
import { NO_REFRESH, type L1Entry } from './l1/l1-store.js';
import type { CallOptions } from './load/call-options.js';
import {
  BAD_KEY,
  DECORATOR_OPTION,
  NOT_A_PROMISE,
  UNCACHEABLE_RESULT,
  UNKEYABLE_ARGUMENT,
} from './multi-level-cache.messages.js';
import { checkKnownKeys, invalidOption } from './multi-level-cache.options.js';
import type { MultiLevelCache } from './multi-level-cache.service.js';

/*
 * What a decorated method does once the explorer has bound it to an application's cache: `@Cached` answers from
 * L1 or loads through the cache, `@CacheEvict` deletes after the method resolves. Options are checked here, at
 * init, so a typo fails the boot instead of being ignored.
 */

type Method = (...args: unknown[]) => unknown;

const KEY_MEMO_SIZE = 1_024;
const MEMO_STRING_LENGTH = 256;
const CACHED_OPTIONS = [
  'ttl',
  'nullTtl',
  'key',
  'tags',
  'grace',
  'lease',
  'failSafeMaxMs',
  'softTimeoutMs',
  'refreshAhead',
  'cache',
];
const EVICT_OPTIONS = ['keys', 'tags', 'cache'];

/** Serialization errors the decorated method itself rejected with (not ours from storing its result). */
const methodErrors = new WeakSet<object>();
const markMethodError = (error: unknown): never => {
  if (error instanceof CacheSerializationError) methodErrors.add(error);
  throw error;
};

/** The `@Cached` implementation of one method in one application (`label`: `Class.method`). @internal */
export function cachedBinding(
  cache: MultiLevelCache,
  logger: Logger,
  original: Method,
  options: CachedOptions,
  label: string,
): MethodBinding {
  checkShape('@Cached', label, options, CACHED_OPTIONS);
  if (options.key !== undefined && typeof options.key !== 'function')
    invalidOption(`@Cached(${label}).key`, options.key, 'a function (...args) => string');
  if (options.lease !== undefined && typeof options.lease !== 'boolean')
    invalidOption(`@Cached(${label}).lease`, options.lease, 'a boolean');
  const prefix = `${label}:`;
  const keyOf = options.key;
  const tagsOf = typeof options.tags === 'function' ? options.tags : undefined;
  const fixed = inDecorator('@Cached', label, () =>
    cache.callOptions({ ...options, tags: tagsOf ? undefined : (options.tags as readonly string[] | undefined) }, true),
  );
  let broken: CachedMethodError | undefined;
  let warnedKey = false;
  let warnedValue = false;
  const memo = new Map<unknown, string>();
  // A result the codec cannot store (an unregistered class, a function inside) is still the method's answer.
  const returnUnstored = (error: unknown): unknown => {
    const root = unencodedRoot(error);
    if (root === undefined || methodErrors.has(error as object)) throw error;
    if (!warnedValue) {
      warnedValue = true;
      logger.warn(UNCACHEABLE_RESULT(label, (error as CacheSerializationError).message));
    }
    return root.value;
  };
  const invoke = (self: unknown, args: unknown[]) => {
    const result = original.apply(self, args);
    if (!isThenable(result)) {
      broken = new CachedMethodError(NOT_A_PROMISE(label, result));
      throw broken;
    }
    return result.then(undefined, markMethodError);
  };
  const loaderOf = (self: unknown, args: unknown[]) => () => invoke(self, args);
  const callFor = (args: unknown[]) =>
    tagsOf ? cache.callOptions({ ...options, tags: tagsOf(...args) }, true) : fixed;
  const memoKey = (arg: unknown): string => {
    const key = shortenKey(prefix, encodeArgs([arg]));
    if (memo.size >= KEY_MEMO_SIZE) memo.clear();
    memo.set(arg, key);
    return key;
  };
  // The key of any other argument list; undefined when it has no data identity (then the method runs uncached).
  const keyFor = (args: unknown[]): string | undefined => {
    if (keyOf) {
      const key = keyOf(...args);
      if (typeof key !== 'string' || key.length === 0) throw new CachedMethodError(BAD_KEY(label, key));
      return key;
    }
    try {
      return shortenKey(prefix, encodeArgs(args));
    } catch (error) {
      if (!(error instanceof CacheSerializationError)) throw error;
      // An argument with no data identity (a request, a socket, a function): run the method as if not cached.
      if (!warnedKey) {
        warnedKey = true;
        logger.warn(UNKEYABLE_ARGUMENT(label, argumentIndex(error.path), error.message));
      }
      return undefined;
    }
  };
  const refresh = (self: unknown, args: unknown[], key: string, hit: L1Entry): Promise<unknown> | undefined => {
    try {
      cache.refreshIfDue(key, hit, loaderOf(self, args), callFor(args));
    } catch (error) {
      return Promise.reject(error);
    }
    return undefined;
  };
  const miss = (self: unknown, args: unknown[], key: string): Promise<unknown> => {
    let call: CallOptions;
    try {
      call = callFor(args);
    } catch (error) {
      return Promise.reject(error);
    }
    return cache.resolve(key, loaderOf(self, args), call).then(undefined, returnUnstored);
  };
  // The hit path: no closure here captures `self` or `args`, so a call allocates no context for them.
  return function cached(self: unknown, args: unknown[]): unknown {
    if (broken) throw broken;
    let key: string | undefined;
    if (keyOf === undefined && args.length === 1 && memoizable(args[0])) {
      // One primitive argument, the common case: reuse the key string (and its cached hash) of earlier calls.
      key = memo.get(args[0]) ?? memoKey(args[0]);
    } else {
      try {
        key = keyFor(args);
      } catch (error) {
        return Promise.reject(error);
      }
      if (key === undefined) return original.apply(self, args);
    }
    const hit = cache.peekEntry(key);
    if (hit === undefined) return miss(self, args, key);
    if (hit.refreshAt !== NO_REFRESH) {
      const failed = refresh(self, args, key, hit);
      if (failed) return failed;
    }
    return (hit.resolved ??= Promise.resolve(hit.value));
  };
}

/** The `@CacheEvict` implementation of one method in one application. @internal */
export function evictBinding(
  cache: MultiLevelCache,
  original: Method,
  options: CacheEvictOptions,
  label: string,
): MethodBinding {
  checkShape('@CacheEvict', label, options, EVICT_OPTIONS);
  if (options.keys !== undefined && typeof options.keys !== 'function')
    invalidOption(`@CacheEvict(${label}).keys`, options.keys, 'a function (...args) => string[]');
  if (options.tags !== undefined && typeof options.tags !== 'function' && !isStringArray(options.tags))
    invalidOption(
      `@CacheEvict(${label}).tags`,
      options.tags,
      'an array of strings or a function (...args) => string[]',
    );
  return function evicting(self: unknown, args: unknown[]): Promise<unknown> {
    const result = original.apply(self, args);
    if (!isThenable(result)) throw new CachedMethodError(NOT_A_PROMISE(label, result));
    return Promise.resolve(result).then(async (value) => {
      const keys = options.keys?.(...args);
      const tags = typeof options.tags === 'function' ? options.tags(...args) : options.tags;
      await Promise.all([
        keys && keys.length > 0 ? cache.del(keys) : undefined,
        tags && tags.length > 0 ? cache.invalidateTags(tags) : undefined,
      ]);
      return value;
    });
  };
}

/**
 * Decorator options must be an object of known options (a typo would otherwise be ignored silently). Checked here,
 * once per method at init: never on a call.
 */
function checkShape(decorator: string, label: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    invalidOption(`${decorator}(${label})`, options, 'an options object');
  checkKnownKeys(options, `${decorator}(${label})`, known);
}

/** Runs the module's call-option validation, naming the decorated method in the error. */
function inDecorator<T>(decorator: string, label: string, validate: () => T): T {
  try {
    return validate();
  } catch (error) {
    if (!(error instanceof InvalidCacheOptionsError)) throw error;
    throw new InvalidCacheOptionsError(
      DECORATOR_OPTION(decorator, label, error.message),
      `${decorator}(${label}).${error.option}`,
    );
  }
}

/** `$[2].socket` → 2: the canonical key text encodes the argument list as an array. */
function argumentIndex(path: string): number {
  const match = /^\$\[(\d+)\]/.exec(path);
  return match ? Number(match[1]) : 0;
}

function isStringArray(value: unknown): value is readonly string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/**
 * Map keys compare with SameValueZero, which would merge -0 with 0; every other number and string is safe. Long
 * strings are left out so the memo never holds more than about `KEY_MEMO_SIZE` short strings (a hostile caller could
 * otherwise pin a thousand megabyte-long arguments).
 */
function memoizable(value: unknown): boolean {
  return typeof value === 'number'
    ? value !== 0 || 1 / value > 0
    : typeof value === 'string' && value.length <= MEMO_STRING_LENGTH;
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
