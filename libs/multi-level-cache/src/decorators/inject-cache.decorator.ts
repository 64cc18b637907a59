import { Inject } from '@nestjs/common';
import { getCacheToken } from '../multi-level-cache.tokens.js';

/**
 * Injects the cache registered with `MultiLevelCacheModule.forRoot({ name })`; without a name, the default cache
 * (the same as injecting `MultiLevelCache`).
 * @publicApi
 */
export const InjectCache = (name?: string): PropertyDecorator & ParameterDecorator => Inject(getCacheToken(name));
