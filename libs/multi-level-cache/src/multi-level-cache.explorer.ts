import { Injectable, type OnModuleInit } from '@nestjs/common';
import { DiscoveryService, MetadataScanner } from '@nestjs/core';
import type { InstanceWrapper } from '@nestjs/core/injector/instance-wrapper.js';
import { encodeArgs, shortenKey } from './codec/cache-key.js';
import { CachedMethodError } from './errors/cached-method.error.js';
import type { CachedOptions, CacheEvictOptions } from './interfaces/cached-options.interface.js';
import { CACHE_EVICT_METADATA, CACHED_METADATA } from './multi-level-cache.constants.js';
import {
  BAD_KEY,
  CACHED_AND_EVICT,
  DECLARED_NOT_A_PROMISE,
  DUPLICATE_CLASS_NAME,
  NOT_A_PROMISE,
  REQUEST_SCOPED,
} from './multi-level-cache.messages.js';
import { invalidOption } from './multi-level-cache.options.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

type Method = (...args: unknown[]) => unknown;

const KEY_MEMO_SIZE = 1_024;

/** Methods already wrapped, so a second module registration in one app does not wrap twice. */
const wrapped = new WeakMap<object, Set<string>>();

/**
 * Finds `@Cached` / `@CacheEvict` methods on every provider and controller at init and replaces them, on the instance
 * (never the shared prototype), with wrappers bound to this application's `MultiLevelCache`.
 * @internal
 */
@Injectable()
export class MultiLevelCacheExplorer implements OnModuleInit {
  constructor(
    private readonly discovery: DiscoveryService,
    private readonly scanner: MetadataScanner,
    private readonly cache: MultiLevelCache,
  ) {}

  onModuleInit(): void {
    const classNames = new Map<string, unknown>();
    for (const wrapper of [...this.discovery.getProviders(), ...this.discovery.getControllers()]) {
      const proto = prototypeOf(wrapper);
      if (!proto) continue;
      for (const name of this.scanner.getAllMethodNames(proto)) {
        const original = (proto as Record<string, unknown>)[name];
        if (typeof original !== 'function') continue;
        const cached = Reflect.getMetadata(CACHED_METADATA, original) as CachedOptions | undefined;
        const evict = Reflect.getMetadata(CACHE_EVICT_METADATA, original) as CacheEvictOptions | undefined;
        if (!cached && !evict) continue;
        const className = (proto.constructor as { name?: string }).name || 'Anonymous';
        const label = `${className}.${name}`;
        if (cached && evict) throw new CachedMethodError(CACHED_AND_EVICT(label));
        if (!wrapper.isDependencyTreeStatic()) throw new CachedMethodError(REQUEST_SCOPED(label));
        checkDeclaredReturnType(proto, name, label);
        if (cached && !cached.key) {
          const seen = classNames.get(className);
          if (seen !== undefined && seen !== proto.constructor)
            throw new CachedMethodError(DUPLICATE_CLASS_NAME(className, name));
          classNames.set(className, proto.constructor);
        }
        const replacement = cached
          ? this.cachedWrapper(original as Method, cached, className, name)
          : this.evictWrapper(original as Method, evict as CacheEvictOptions, label);
        keepIdentity(replacement, original as Method);
        for (const instance of instancesOf(wrapper)) install(instance, name, replacement);
      }
    }
  }

  private cachedWrapper(original: Method, options: CachedOptions, className: string, name: string): Method {
    const cache = this.cache;
    const label = `${className}.${name}`;
    const prefix = `${label}:`;
    const keyOf = options.key;
    const tagsOf = typeof options.tags === 'function' ? options.tags : undefined;
    if (options.key !== undefined && typeof options.key !== 'function')
      invalidOption(`@Cached key of ${label}`, options.key, 'a function');
    const fixed = cache.callOptions(
      { ...options, tags: tagsOf ? undefined : (options.tags as readonly string[] | undefined) },
      true,
    );
    let broken: CachedMethodError | undefined;
    const memo = new Map<unknown, string>();
    return function cached(this: unknown, ...args: unknown[]): Promise<unknown> {
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
        const hit = cache.peek(key);
        if (hit !== undefined) return Promise.resolve(hit.value);
        if (tagsOf) call = cache.callOptions({ ...options, tags: tagsOf(...args) }, true);
      } catch (error) {
        return Promise.reject(error);
      }
      return cache.resolve(
        key,
        () => {
          const result = original.apply(this, args);
          if (!isThenable(result)) {
            broken = new CachedMethodError(NOT_A_PROMISE(label, result));
            throw broken;
          }
          return result;
        },
        call,
      );
    };
  }

  private evictWrapper(original: Method, options: CacheEvictOptions, label: string): Method {
    const cache = this.cache;
    return function evicting(this: unknown, ...args: unknown[]): Promise<unknown> {
      const result = original.apply(this, args);
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

/** The wrapper keeps the method's name and every metadata key other decorators put on it. */
function keepIdentity(replacement: Method, original: Method): void {
  Object.defineProperty(replacement, 'name', { value: original.name, configurable: true });
  for (const key of Reflect.getOwnMetadataKeys(original)) {
    Reflect.defineMetadata(key, Reflect.getOwnMetadata(key, original), replacement);
  }
}

function install(instance: object, name: string, replacement: Method): void {
  let names = wrapped.get(instance);
  if (names?.has(name)) return;
  if (!names) wrapped.set(instance, (names = new Set()));
  names.add(name);
  Object.defineProperty(instance, name, { value: replacement, writable: true, configurable: true, enumerable: false });
}

/** Map keys compare with SameValueZero, which would merge -0 with 0; every other number and string is safe. */
function memoizable(value: unknown): boolean {
  return typeof value === 'string' || (typeof value === 'number' && !Object.is(value, -0));
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    (typeof value === 'object' || typeof value === 'function') &&
    value !== null &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}
