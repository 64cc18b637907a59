import { SetMetadata } from '@nestjs/common';
import type { CacheEvictOptions } from '../interfaces/cached-options.interface.js';
import { CACHE_EVICT_METADATA } from '../multi-level-cache.constants.js';

/**
 * After the decorated method's Promise resolves, deletes `keys(...args)` and invalidates `tags` on every tier and
 * instance. Nothing is evicted when the method rejects.
 * @publicApi
 */
// oxlint-disable-next-line typescript/no-explicit-any -- lets unannotated key/tags lambdas type-check
export const CacheEvict = <TArgs extends unknown[] = any[]>(options: CacheEvictOptions<TArgs>): MethodDecorator =>
  SetMetadata(CACHE_EVICT_METADATA, options);
