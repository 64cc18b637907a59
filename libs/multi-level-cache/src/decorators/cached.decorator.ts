import { SetMetadata } from '@nestjs/common';
import type { CachedOptions } from '../interfaces/cached-options.interface.js';
import { CACHED_METADATA } from '../multi-level-cache.constants.js';

/**
 * Caches the Promise result of a provider method, keyed by class, method and arguments (or `options.key`). Applied
 * at boot by the module's explorer, on singleton providers; the method must return a Promise.
 * @publicApi
 */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export const Cached = <TArgs extends unknown[] = any[]>(options: CachedOptions<TArgs> = {}): MethodDecorator =>
  SetMetadata(CACHED_METADATA, options);
