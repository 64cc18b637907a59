import { Redis } from 'ioredis';
import { inject } from 'vitest';
import { RedisCluster, RedisServer, redisUrl, uniquePrefix } from './harness/index.js';

describe('test harness', () => {
  it('talks to a real Redis (round trip through the shared server)', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true });
    await redis.connect();
    try {
      const key = `${uniquePrefix('harness')}:roundtrip`;
      await redis.set(key, 'value', 'PX', 10_000);
      expect(await redis.get(key)).toBe('value');
      expect(await redis.pttl(key)).toBeGreaterThan(0);
      const info = await redis.info('server');
      expect(info).toMatch(/redis_version:\d+/);
      expect(typeof inject('redisOwned')).toBe('boolean');
    } finally {
      redis.disconnect();
    }
  });

  it('kills a Redis mid-test and restarts it on the same port', async () => {
    const server = await RedisServer.start();
    const redis = new Redis(server.url, { maxRetriesPerRequest: 0, retryStrategy: () => 50, lazyConnect: true });
    redis.on('error', () => {}); // connection errors are the point of this test
    await redis.connect();
    try {
      await redis.set('k', '1');
      await server.kill();
      expect(server.running).toBe(false);
      await expect(redis.get('k')).rejects.toThrow(/ECONNREFUSED|Connection is closed|max retries|offline/i);
      await server.restart();
      expect(server.running).toBe(true);
      await vi.waitFor(async () => expect(await redis.ping()).toBe('PONG'), { timeout: 5000, interval: 50 });
      // A throwaway Redis persists nothing: the restarted one is empty.
      expect(await redis.get('k')).toBeNull();
    } finally {
      redis.disconnect();
      await server.stop();
    }
  });

  it('starts a three-master Redis Cluster', async () => {
    const cluster = await RedisCluster.start();
    const { Cluster } = await import('ioredis');
    const client = new Cluster(cluster.seeds, { lazyConnect: true });
    await client.connect();
    try {
      const keys = Array.from({ length: 30 }, (_, i) => `key:${i}`);
      for (const key of keys) await client.set(key, key);
      for (const key of keys) expect(await client.get(key)).toBe(key);
      const masters = client.nodes('master');
      expect(masters).toHaveLength(3);
      const counts = await Promise.all(masters.map((m) => m.dbsize()));
      expect(counts.filter((c) => c > 0).length).toBeGreaterThan(1);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  });
});
