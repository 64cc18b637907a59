import type { CachedOptions } from '../interfaces/cached-options.interface.js';
import { CACHED_METADATA } from '../multi-level-cache.constants.js';
import { installTrampoline } from './method-binding.js';

/**
 * Caches the Promise result of a provider or controller method, keyed by class, method and arguments (or
 * `options.key`). Applied at boot by the module's explorer, on singleton providers and controllers (routes included);
 * the method must return a Promise. Without the module (e.g. `new Service()` in a unit test) the method runs uncached.
 * @publicApi
 */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export const Cached = <TArgs extends unknown[] = any[]>(options: CachedOptions<TArgs> = {}): MethodDecorator =>
  ((target: object, key: string | symbol, descriptor: PropertyDescriptor) => {
    installTrampoline('@Cached', target, key, descriptor);
    Reflect.defineMetadata(CACHED_METADATA, options, descriptor.value as object);
    return descriptor;
  }) as MethodDecorator;
