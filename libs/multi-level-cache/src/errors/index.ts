export { CachedMethodError } from './cached-method.error.js';
export { CacheSerializationError } from './cache-serialization.error.js';
export { InvalidCacheOptionsError } from './invalid-cache-options.error.js';
