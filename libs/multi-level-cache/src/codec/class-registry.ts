import { InvalidCacheOptionsError } from '../errors/invalid-cache-options.error.js';
import {
  CACHEABLE_CLASS_BAD_NAME,
  CACHEABLE_CLASS_NAME_TAKEN,
  CACHEABLE_CLASS_RENAMED,
} from '../multi-level-cache.messages.js';

/** A class whose instances the codec may store and restore (with their prototype, without calling the constructor). */
export type CacheableClassType = abstract new (...args: never[]) => object;

/*
 * Classes are process-wide types, so this registry is too: any cache in the process (and any instance of the app that
 * registers the same names) writes and reads `{"$C":[name, data]}` the same way. It holds no cached data.
 */
const byName = new Map<string, CacheableClassType>();
const byClass = new WeakMap<CacheableClassType, string>();

/**
 * Lets the cache store instances of `type` and restore them with their prototype: own enumerable data is written and
 * put back onto `Object.create(type.prototype)`; the constructor is not called. `name` (default: the class name) is
 * what Redis records carry, so it must be the same on every instance sharing the Redis and unique in the process.
 * @publicApi
 */
export function registerCacheableClass(type: CacheableClassType, name: string = type.name): void {
  if (typeof name !== 'string' || name.length === 0)
    throw new InvalidCacheOptionsError(CACHEABLE_CLASS_BAD_NAME(name), '@CacheableClass.name');
  const registered = byClass.get(type);
  if (registered === name) return;
  if (registered !== undefined)
    throw new InvalidCacheOptionsError(CACHEABLE_CLASS_RENAMED(type.name, registered, name), '@CacheableClass.name');
  if (byName.has(name)) throw new InvalidCacheOptionsError(CACHEABLE_CLASS_NAME_TAKEN(name), '@CacheableClass.name');
  byName.set(name, type);
  byClass.set(type, name);
}

/** The registered name of exactly this class (not of a base class), or undefined. @internal */
export function cacheableName(type: unknown): string | undefined {
  return typeof type === 'function' ? byClass.get(type as CacheableClassType) : undefined;
}

/** The class registered under `name`, or undefined. @internal */
export function cacheableClass(name: string): CacheableClassType | undefined {
  return byName.get(name);
}
