import type { CacheEvictOptions } from '../interfaces/cached-options.interface.js';
import { CACHE_EVICT_METADATA } from '../multi-level-cache.constants.js';
import { installTrampoline } from './method-binding.js';

/**
 * After the decorated method's Promise resolves, deletes `keys(...args)` and invalidates `tags` on every tier and
 * instance. Nothing is evicted when the method rejects. Works on controller routes too.
 * @publicApi
 */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export const CacheEvict = <TArgs extends unknown[] = any[]>(options: CacheEvictOptions<TArgs>): MethodDecorator =>
  ((target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    installTrampoline('@CacheEvict', target, key, descriptor);
    Reflect.defineMetadata(CACHE_EVICT_METADATA, options, descriptor.value as object);
    return descriptor;
  }) as MethodDecorator;
