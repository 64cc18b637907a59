export { CacheEvict } from './cache-evict.decorator.js';
export { CacheableClass, type CacheableClassOptions } from './cacheable-class.decorator.js';
export { Cached } from './cached.decorator.js';
