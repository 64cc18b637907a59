import { registerCacheableClass, type CacheableClassType } from '../codec/class-registry.js';

/** Options of `@CacheableClass`. @publicApi */
export interface CacheableClassOptions {
  /** Name written into Redis records; the same on every instance, unique in the process. Default: the class name. */
  name?: string;
}

/**
 * Lets the cache store instances of this class (an entity, a DTO) and restore them, from either tier, with their
 * prototype: own enumerable data onto `Object.create(Class.prototype)`, without calling the constructor.
 * @publicApi
 */
export const CacheableClass =
  (options: CacheableClassOptions = {}): ClassDecorator =>
  (target) => {
    registerCacheableClass(target as unknown as CacheableClassType, options.name ?? target.name);
  };
