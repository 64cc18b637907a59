import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner, ModuleRef } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { encodeArgs, shortenKey } from './codec/cache-key.js';
import { unencodedRoot } from './codec/value-codec.js';
import { bind, trampolineOf, type MethodBinding } from './decorators/method-binding.js';
import { NO_REFRESH } from './l1/l1-store.js';
import { CacheSerializationError } from './errors/cache-serialization.error.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import type { CachedOptions, CacheEvictOptions } from './interfaces/cached-options.interface.js';
import { CACHE_EVICT_METADATA, CACHED_METADATA } from './multi-level-cache.constants.js';
import {
  BAD_KEY,
  CACHED_AND_EVICT,
  DECLARED_NOT_A_PROMISE,
  DECORATOR_OPTION,
  DUPLICATE_CLASS_NAME,
  NOT_A_PROMISE,
  REQUEST_SCOPED,
  UNKNOWN_CACHE,
  UNCACHEABLE_RESULT,
  UNKEYABLE_ARGUMENT,
} from './multi-level-cache.messages.js';
import { invalidOption } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';
import { getCacheToken } from './multi-level-cache.tokens.js';

/** Never provided: the default cache's explorer has no name; a named cache's module passes its name. */
const CACHE_NAME = 'nest_scale:cache_name';

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

/**
 * Finds `@Cached` / `@CacheEvict` methods on every provider and controller at init and gives each instance a binding
 * to this application's `MultiLevelCache`, which the decorator's prototype trampoline calls (routes included: the
 * router holds the trampoline). The prototype itself is never changed here. Each cache module has its explorer: the
 * default cache's binds the methods without a `cache` option, a named cache's those with `cache: <its name>`.
 * @internal
 */
@Injectable()
export class MultiLevelCacheExplorer implements OnModuleInit {
  private readonly logger = new Logger('MultiLevelCache');

  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly cache: MultiLevelCache,
    private readonly modules: ModuleRef,
    @Optional() @Inject(CACHE_NAME) private readonly name?: string,
  ) {}

  onModuleInit(): void {
    const classNames = new Map<string, unknown>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const proto = prototypeOf(wrapper);
      if (!proto) continue;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const fn = (proto as Record<string, unknown>)[name];
        const trampoline = trampolineOf(fn);
        if (!trampoline) continue;
        const cached = Reflect.getMetadata(CACHED_METADATA, fn as object) as CachedOptions | undefined;
        const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, fn as object) as CacheEvictOptions | undefined;
        if (!cached && !evict) continue;
        const className = (proto.constructor as { name?: string }).name || 'Anonymous';
        const label = `${className}.${name}`;
        const target = (cached ?? evict)?.cache;
        if (target !== this.name) {
          this.checkCacheExists(target, cached ? '@Cached' : '@CacheEvict', label);
          continue;
        }
        if (cached && evict) throw new CachedMethodError(CACHED_AND_EVICT(label));
        if (!wrapper.isDependencyTreeStatic()) throw new CachedMethodError(REQUEST_SCOPED(label));
        checkDeclaredReturnType(proto, name, label);
        if (cached && !cached.key) {
          const seen = classNames.get(className);
          if (seen !== undefined && seen !== proto.constructor)
            throw new CachedMethodError(DUPLICATE_CLASS_NAME(className, name));
          classNames.set(className, proto.constructor);
        }
        const binding = cached
          ? this.cachedBinding(trampoline.original, cached, label)
          : this.evictBinding(trampoline.original, evict as CacheEvictOptions, label);
        for (const instance of instancesOf(wrapper)) bind(instance, trampoline, binding);
      }
    }
  }

  /** A `cache` option naming no registered cache would leave the method silently uncached. */
  private checkCacheExists(target: unknown, decorator: string, label: string): void {
    if (target === undefined) return;
    if (typeof target !== 'string' || target.length === 0)
      invalidOption(`${decorator}(${label}).cache`, target, 'the name of a cache registered with forRoot({ name })');
    try {
      this.modules.get(getCacheToken(target), { strict: false });
    } catch {
      throw new CachedMethodError(UNKNOWN_CACHE(decorator, label, target));
    }
  }

  private cachedBinding(original: Method, options: CachedOptions, label: string): MethodBinding {
    checkShape('@Cached', label, options, CACHED_OPTIONS);
    if (options.key !== undefined && typeof options.key !== 'function')
      invalidOption(`@Cached(${label}).key`, options.key, 'a function (...args) => string');
    if (options.lease !== undefined && typeof options.lease !== 'boolean')
      invalidOption(`@Cached(${label}).lease`, options.lease, 'a boolean');
    const cache = this.cache;
    const logger = this.logger;
    const prefix = `${label}:`;
    const keyOf = options.key;
    const tagsOf = typeof options.tags === 'function' ? options.tags : undefined;
    const fixed = inDecorator('@Cached', label, () =>
      cache.callOptions(
        { ...options, tags: tagsOf ? undefined : (options.tags as readonly string[] | undefined) },
        true,
      ),
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
    const callFor = (args: unknown[]) =>
      tagsOf ? cache.callOptions({ ...options, tags: tagsOf(...args) }, true) : fixed;
    return function cached(self: unknown, args: unknown[]): unknown {
      if (broken) throw broken;
      let key: string;
      let call = fixed;
      try {
        if (keyOf) {
          key = keyOf(...args);
          if (typeof key !== 'string' || key.length === 0) throw new CachedMethodError(BAD_KEY(label, key));
        } else if (args.length === 1 && memoizable(args[0])) {
          // One primitive argument, the common case: reuse the key string (and its cached hash) of earlier calls.
          key = memo.get(args[0]) as string;
          if (key === undefined) {
            key = shortenKey(prefix, encodeArgs(args));
            if (memo.size >= KEY_MEMO_SIZE) memo.clear();
            memo.set(args[0], key);
          }
        } else {
          key = shortenKey(prefix, encodeArgs(args));
        }
        const hit = cache.peekEntry(key);
        if (hit !== undefined) {
          if (hit.refreshAt !== NO_REFRESH) cache.refreshIfDue(key, hit, () => invoke(self, args), callFor(args));
          return Promise.resolve(hit.value);
        }
        call = callFor(args);
      } catch (error) {
        if (keyOf || !(error instanceof CacheSerializationError)) return Promise.reject(error);
        // An argument with no data identity (a request, a socket, a function): run the method as if not cached.
        if (!warnedKey) {
          warnedKey = true;
          logger.warn(UNKEYABLE_ARGUMENT(label, argumentIndex(error.path), error.message));
        }
        return original.apply(self, args);
      }
      return cache.resolve(key, () => invoke(self, args), call).then(undefined, returnUnstored);
    };
  }

  private evictBinding(original: Method, options: CacheEvictOptions, label: string): MethodBinding {
    checkShape('@CacheEvict', label, options, EVICT_OPTIONS);
    if (options.keys !== undefined && typeof options.keys !== 'function')
      invalidOption(`@CacheEvict(${label}).keys`, options.keys, 'a function (...args) => string[]');
    if (options.tags !== undefined && typeof options.tags !== 'function' && !isStringArray(options.tags))
      invalidOption(
        `@CacheEvict(${label}).tags`,
        options.tags,
        'an array of strings or a function (...args) => string[]',
      );
    const cache = this.cache;
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
}

/** Decorator options must be an object of known options (a typo would otherwise be ignored silently). */
function checkShape(decorator: string, label: string, options: unknown, known: readonly string[]): void {
  if (typeof options !== 'object' || options === null || Array.isArray(options))
    invalidOption(`${decorator}(${label})`, options, 'an options object');
  for (const key of Object.keys(options))
    if (!known.includes(key))
      invalidOption(
        `${decorator}(${label}).${key}`,
        (options as Record<string, unknown>)[key],
        `one of the known options (${known.join(', ')})`,
      );
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

function prototypeOf(wrapper: InstanceWrapper): object | undefined {
  const instance: unknown = wrapper.instance;
  if (instance && typeof instance === 'object') {
    const proto: unknown = Object.getPrototypeOf(instance);
    return proto && proto !== Object.prototype ? (proto as object) : undefined;
  }
  const metatype = wrapper.metatype as { prototype?: unknown } | null;
  return typeof metatype === 'function' && metatype.prototype && typeof metatype.prototype === 'object'
    ? (metatype.prototype as object)
    : undefined;
}

function instancesOf(wrapper: InstanceWrapper): object[] {
  const all: unknown[] = wrapper.isTransient
    ? wrapper.getStaticTransientInstances().map((ctx) => ctx?.instance)
    : [wrapper.instance];
  return all.filter((i): i is object => typeof i === 'object' && i !== null);
}

/** TypeScript records the declared return type; SWC/tsc emit `Promise` for async methods. */
function checkDeclaredReturnType(proto: object, name: string, label: string): void {
  const type: unknown = Reflect.getMetadata('design:returntype', proto, name);
  if (typeof type === 'function' && type !== Promise && type !== Object)
    throw new CachedMethodError(DECLARED_NOT_A_PROMISE(label, type.name));
}

/**
 * Map keys compare with SameValueZero, which would merge -0 with 0; every other number and string is safe. Long
 * strings are left out so the memo never holds more than about `KEY_MEMO_SIZE` short strings (a hostile caller could
 * otherwise pin a thousand megabyte-long arguments).
 */
function memoizable(value: unknown): boolean {
  return typeof value === 'string'
    ? value.length <= MEMO_STRING_LENGTH
    : typeof value === 'number' && !Object.is(value, -0);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
