import { Redis } from 'ioredis';
import { freePort, NodeProcess, RedisServer, uniquePrefix } from '../../../../test/harness/index.js';
import { sleep } from './driver.conformance.js';

const FIXTURE = 'libs/task-queue/src/drivers/shutdown-app.fixture.ts';
const DEADLINE_MS = 1_000;
/** Generous: the bound under test is the deadline plus about one second; a hang shows as many seconds more. */
const MARGIN_MS = 3_000;

/** Sends SIGUSR2 (close the app) and resolves with how long until the process exited on its own, or undefined. */
async function closeAndWaitForExit(app: NodeProcess, withinMs: number): Promise<number | undefined> {
  const started = performance.now();
  process.kill(app.pid as number, 'SIGUSR2');
  while (performance.now() - started < withinMs) {
    if (!app.alive) return performance.now() - started;
    await sleep(25);
  }
  return undefined;
}

const start = (url: string, enqueue: boolean) =>
  NodeProcess.start('shutdown-app', FIXTURE, {
    REDIS_URL: url,
    PREFIX: uniquePrefix('shutdown'),
    DEADLINE_MS: String(DEADLINE_MS),
    ENQUEUE: enqueue ? '1' : '0',
  });

describe('defect 9: bullmq driver shutdown holds its deadline whatever Redis does, and leaves no handle open', () => {
  let server: RedisServer | undefined;
  let app: NodeProcess | undefined;
  let stoppedPid: number | undefined;

  afterEach(async () => {
    if (stoppedPid !== undefined) process.kill(stoppedPid, 'SIGCONT');
    stoppedPid = undefined;
    await app?.kill();
    await server?.stop();
    app = server = undefined;
  });

  it('Redis hung (SIGSTOP) under a running task: the app closes and the process exits in time', async () => {
    server = await RedisServer.start();
    const client = new Redis(server.url);
    const pid = Number(/process_id:(\d+)/.exec(await client.info('server'))?.[1]);
    await client.quit();
    app = start(server.url, true);
    await app.waitFor(/STARTED/, 30_000);
    process.kill(pid, 'SIGSTOP');
    stoppedPid = pid;
    const exitedAfter = await closeAndWaitForExit(app, DEADLINE_MS + MARGIN_MS);
    expect({ exitedAfter, log: app.log }).toMatchObject({ exitedAfter: expect.any(Number) });
    expect(app.log).toMatch(/CLOSED \d+/);
  }, 60_000);

  it('Redis killed under a running task: the app closes and the process exits in time', async () => {
    server = await RedisServer.start();
    app = start(server.url, true);
    await app.waitFor(/STARTED/, 30_000);
    await server.kill();
    const exitedAfter = await closeAndWaitForExit(app, DEADLINE_MS + MARGIN_MS);
    expect({ exitedAfter, log: app.log }).toMatchObject({ exitedAfter: expect.any(Number) });
    expect(app.log).toMatch(/CLOSED \d+/);
  }, 60_000);

  it('nothing listens at the Redis URL: the app closes and the process exits in time', async () => {
    app = start(`redis://127.0.0.1:${await freePort()}`, false);
    await app.waitFor(/READY/, 30_000);
    await sleep(500);
    const exitedAfter = await closeAndWaitForExit(app, DEADLINE_MS + MARGIN_MS);
    expect({ exitedAfter, log: app.log }).toMatchObject({ exitedAfter: expect.any(Number) });
    expect(app.log).toMatch(/CLOSED \d+/);
  }, 60_000);

  it('Redis healthy: the running task is aborted at the deadline and the process exits on its own', async () => {
    server = await RedisServer.start();
    app = start(server.url, true);
    await app.waitFor(/STARTED/, 30_000);
    const exitedAfter = await closeAndWaitForExit(app, DEADLINE_MS + MARGIN_MS);
    expect({ exitedAfter, log: app.log }).toMatchObject({ exitedAfter: expect.any(Number) });
    expect(app.log).toMatch(/aborted and handed back/);
  }, 60_000);
});
