export { CacheEvict } from './cache-evict.decorator.js';
export { Cached } from './cached.decorator.js';
