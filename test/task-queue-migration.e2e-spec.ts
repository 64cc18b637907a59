// Issue 15: the nestjs/nest sample `sample/26-queues`, migrated (test/task-queue-migration/audio.app.ts), run the
// way its users run it: an API instance that enqueues and a worker instance that runs the handler, in separate
// processes on one Redis, over HTTP; the sample's raw `@InjectQueue` producer unchanged; a task enqueued while no
// worker runs completes once one starts; and the memory driver in one process, as e2e tests without Redis run it.
import { NodeProcess, redisUrl, uniquePrefix } from './harness/index.js';

const ENTRY = 'test/task-queue-migration/main.ts';

interface PrintedEvent {
  event: string;
  id: string;
  name: string;
  attempt?: number;
  progress?: number;
  result?: unknown;
}

function eventsOf(process: NodeProcess, id: string): PrintedEvent[] {
  return [...process.log.matchAll(/^EVENT (.+)$/gm)]
    .map((m) => JSON.parse(m[1]!) as PrintedEvent)
    .filter((e) => e.id === id);
}

async function startApi(env: Record<string, string>): Promise<{ process: NodeProcess; url: string }> {
  const process = NodeProcess.start('audio-api', ENTRY, { ...env, ROLE: env.ROLE ?? 'api' });
  const [, url] = await process.waitFor(/^LISTENING (\S+)$/m, 30_000);
  return { process, url: url! };
}

async function startWorker(env: Record<string, string>): Promise<NodeProcess> {
  const worker = NodeProcess.start('audio-worker', ENTRY, { ...env, ROLE: 'worker' });
  await worker.waitFor(/^READY$/m, 30_000);
  return worker;
}

/** SIGTERM; Nest's shutdown hooks close the app, then re-raise the signal (so no exit code): the log shows it closed. */
async function stopGracefully(process: NodeProcess): Promise<void> {
  await process.stop(15_000);
  expect(process.log).toMatch(/^SHUTDOWN SIGTERM$/m);
}

async function post(url: string, path: string): Promise<string> {
  const response = await fetch(`${url}${path}`, { method: 'POST' });
  expect(response.status).toBe(201);
  return ((await response.json()) as { id: string }).id;
}

async function task(url: string, id: string): Promise<Record<string, unknown>> {
  return (await (await fetch(`${url}/audio/${id}`)).json()) as Record<string, unknown>;
}

async function completed(url: string, id: string): Promise<Record<string, unknown>> {
  let last: Record<string, unknown> = {};
  await vi.waitFor(
    async () => {
      last = await task(url, id);
      expect(last.state).toBe('completed');
    },
    { timeout: 15_000, interval: 50 },
  );
  return last;
}

describe('sample/26-queues migrated: API and worker in separate processes on BullMQ (issue 15)', () => {
  const running: NodeProcess[] = [];
  const env = { DRIVER: 'bullmq', REDIS_URL: redisUrl(), PREFIX: uniquePrefix('sample26-e2e') };
  let api: { process: NodeProcess; url: string };

  beforeAll(async () => {
    api = await startApi(env);
    running.push(api.process);
  }, 40_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
  });

  it('POST /audio/transcode on the API runs on the worker, which reports progress, logs and events', async () => {
    const worker = await startWorker(env);
    running.push(worker);
    const id = await post(api.url, '/audio/transcode');

    expect(await completed(api.url, id)).toMatchObject({
      name: 'transcode',
      progress: 100,
      logs: ['transcoded audio.mp3'],
      result: { file: 'audio.mp3', format: 'ogg' },
    });
    await vi.waitFor(() => expect(eventsOf(worker, id).at(-1)?.event).toBe('completed'), { timeout: 5_000 });
    const seen = eventsOf(worker, id);
    expect(seen.map((e) => e.event)).toEqual(['active', ...Array(10).fill('progress'), 'completed']);
    expect(seen.filter((e) => e.event === 'progress').map((e) => e.progress)).toEqual([
      10, 20, 30, 40, 50, 60, 70, 80, 90, 100,
    ]);
    expect(seen[0]).toMatchObject({ name: 'transcode', attempt: 1 });
    // Events are local: the API heard only its own enqueue, the worker none of it.
    expect(eventsOf(api.process, id).map((e) => e.event)).toEqual(['enqueued']);
    await stopGracefully(worker);
  }, 60_000);

  it("the sample's own producer (raw Queue.add through @InjectQueue) is run by the migrated handler", async () => {
    const worker = await startWorker(env);
    running.push(worker);
    const id = await post(api.url, '/audio/transcode-raw');
    expect(await completed(api.url, id)).toMatchObject({ result: { file: 'raw.mp3', format: 'ogg' }, progress: 100 });
    await stopGracefully(worker);
  }, 60_000);

  it('a task enqueued while no worker runs waits in Redis and completes when a worker starts', async () => {
    const id = await post(api.url, '/audio/transcode');
    // Nothing runs it: the API has no workers, and no worker process is up.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await task(api.url, id)).toMatchObject({ state: 'waiting', name: 'transcode' });

    const worker = await startWorker(env);
    running.push(worker);
    expect(await completed(api.url, id)).toMatchObject({ result: { file: 'audio.mp3', format: 'ogg' } });
    expect(eventsOf(worker, id).map((e) => e.event)).toContain('active');
    await stopGracefully(worker);
  }, 60_000);
});

describe('sample/26-queues migrated: one process on the memory driver, no Redis (issue 15)', () => {
  let app: { process: NodeProcess; url: string };

  afterAll(async () => {
    await stopGracefully(app.process);
  });

  it('the same HTTP calls enqueue, run, report progress and events in process', async () => {
    app = await startApi({ DRIVER: 'memory', ROLE: 'both', REDIS_URL: 'redis://127.0.0.1:1' });
    const id = await post(app.url, '/audio/transcode');
    expect(await completed(app.url, id)).toMatchObject({
      progress: 100,
      logs: ['transcoded audio.mp3'],
      result: { file: 'audio.mp3', format: 'ogg' },
    });
    await vi.waitFor(() => expect(eventsOf(app.process, id).at(-1)?.event).toBe('completed'), { timeout: 5_000 });
    expect(eventsOf(app.process, id).map((e) => e.event)).toEqual([
      'enqueued',
      'active',
      ...Array(10).fill('progress'),
      'completed',
    ]);
    // No BullMQ queue behind the memory driver: the raw producer has nothing to add to.
    expect(await post(app.url, '/audio/transcode-raw')).toBeNull();
  }, 60_000);
});
