import type { INestApplication } from '@nestjs/common';
import { InMemoryProductRepository } from './products/in-memory-product.repository.js';
import { RedisProductRepository } from './products/redis-product.repository.js';
import { startUpstreamNode } from './bootstrap.js';

// NODES upstream nodes on ports PORT, PORT+1, … in this process. They share one catalog: in memory, or through
// Redis when REDIS_URL is set (then nodes in other processes share it too).
const basePort = Number(process.env.PORT ?? 4001);
const count = Number(process.env.NODES ?? 1);
if (!Number.isInteger(basePort) || !Number.isInteger(count) || count < 1 || basePort < 0 || basePort + count > 65536) {
  console.error(`PORT=${process.env.PORT} NODES=${process.env.NODES} are not valid: use a port and a count >= 1.`);
  process.exit(2);
}
const repository = process.env.REDIS_URL
  ? new RedisProductRepository(process.env.REDIS_URL, process.env.UPSTREAM_PREFIX ?? 'upstream')
  : new InMemoryProductRepository();
const faults = {
  latencyMs: Number(process.env.LATENCY_MS ?? 0),
  jitterMs: Number(process.env.JITTER_MS ?? 0),
  failureRate: Number(process.env.FAILURE_RATE ?? 0),
};

const apps: INestApplication[] = [];
for (let i = 0; i < count; i++) {
  const port = basePort + i;
  const nodeId = count === 1 && process.env.NODE_ID ? process.env.NODE_ID : `upstream-${port}`;
  apps.push(await startUpstreamNode({ nodeId, port, repository, faults }));
  console.log(`upstream ${nodeId} listening on http://127.0.0.1:${port}`);
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, async () => {
    await Promise.all(apps.map((app) => app.close()));
    await repository.close();
    process.exit(0);
  });
}
