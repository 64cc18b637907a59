import { InMemoryProductRepository } from './products/in-memory-product.repository.js';
import { RedisProductRepository } from './products/redis-product.repository.js';
import { startUpstreamNode } from './bootstrap.js';

// One upstream node per process. With REDIS_URL the nodes share their catalog through Redis.
const port = Number(process.env.PORT ?? 4001);
const nodeId = process.env.NODE_ID ?? `upstream-${port}`;
const repository = process.env.REDIS_URL
  ? new RedisProductRepository(process.env.REDIS_URL, process.env.UPSTREAM_PREFIX ?? 'upstream')
  : new InMemoryProductRepository();
const app = await startUpstreamNode({
  nodeId,
  port,
  repository,
  faults: {
    latencyMs: Number(process.env.LATENCY_MS ?? 0),
    jitterMs: Number(process.env.JITTER_MS ?? 0),
    failureRate: Number(process.env.FAILURE_RATE ?? 0),
  },
});
app.enableShutdownHooks();
process.once('SIGTERM', () => void repository.close());
console.log(`upstream ${nodeId} listening on http://127.0.0.1:${port}`);
