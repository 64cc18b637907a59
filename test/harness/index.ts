export { consecutiveFreePorts, freeClusterPort, freePort } from './free-port.js';
export { RedisCluster } from './redis-cluster.js';
export { hasRedisServerBinary, ping, RedisServer, waitForPing } from './redis-server.js';
export { NodeProcess } from './node-process.js';
export { redisUrl, uniquePrefix } from './redis.js';
export { PROPERTY_SEED, propertyParameters, propertyRuns } from './properties.js';
