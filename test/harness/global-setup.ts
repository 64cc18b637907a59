import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { hasRedisServerBinary, PID_REGISTRY_ENV, RedisServer } from './redis-server.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** URL of the Redis every integration test talks to. */
    redisUrl: string;
    /** True when the harness started that Redis itself (so tests may flush it). */
    redisOwned: boolean;
  }
}

const HOW_TO_GET_REDIS =
  'The tests need a real Redis. Either put redis-server on PATH (Debian/Ubuntu: `apt-get install -y redis-server`; ' +
  'macOS: `brew install redis`) and the harness starts a throwaway one, or set REDIS_URL=redis://host:port to a Redis ' +
  'the tests may use (it is never flushed).';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pidDir = mkdtempSync(join(tmpdir(), 'nest-scale-pids-'));
  process.env[PID_REGISTRY_ENV] = pidDir;

  let server: RedisServer | undefined;
  if (hasRedisServerBinary()) {
    server = await RedisServer.start();
    project.provide('redisUrl', server.url);
    project.provide('redisOwned', true);
  } else if (process.env.REDIS_URL) {
    project.provide('redisUrl', process.env.REDIS_URL);
    project.provide('redisOwned', false);
  } else {
    throw new Error(HOW_TO_GET_REDIS);
  }

  return async () => {
    await server?.stop();
    // Anything a test started and did not stop (it crashed, or timed out) is killed here.
    for (const pid of readdirSync(pidDir)) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch {
        // already gone
      }
    }
    rmSync(pidDir, { recursive: true, force: true });
  };
}
