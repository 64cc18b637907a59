// Scale-out of the BullMQ driver: throughput with 1 and 2 worker PROCESSES on one Redis, and with N queues
// (N = 1, 2, 3, one worker process each) on a local 3-master Redis Cluster; I/O-bound handlers (20 ms each,
// concurrency 8 per worker) on 1, 2 and 4 worker processes; and a schedule registered by 3 replicas, counting
// runs per occurrence. Run: `npm run bench -- scale-out`.
//
// Each round: the parent (a `workers: false` instance per queue) fills paused queues with no-op tasks, the worker
// processes boot and report ready, then the clock runs from resuming the queues until every task has completed.
import 'reflect-metadata';
import { fork, type ChildProcess } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskHandler, TaskQueue, TaskQueueModule, type TaskQueueConnection } from '@nest-scale/task-queue';
import type { Queue } from 'bullmq';
import { Cluster } from 'ioredis';
import { RedisCluster } from '../test/harness/redis-cluster.js';
import { RedisServer } from '../test/harness/redis-server.js';
import { Redis } from 'ioredis';
import { median, writeResults } from './support/results.js';

/** Tasks per round, split evenly over the queues (divisible by 1, 2 and 3). */
const TOTAL_TASKS = 24_000;
const CONCURRENCY = 50;
const ROUNDS = 3;
const root = fileURLToPath(new URL('..', import.meta.url));

/** I/O-bound runs: tasks per round, the handler's wait, and each worker's concurrency. */
const IO_TASKS = 2_400;
const IO_WAIT_MS = 20;
const IO_CONCURRENCY = 8;
const SCHEDULE_EVERY_MS = 500;
const SCHEDULE_RUN_MS = 6_000;

@Injectable()
class NoopHandlers {
  @TaskHandler('noop')
  async noop(): Promise<void> {}

  /** Stands for a handler waiting on I/O (an HTTP call, a query): no CPU while it waits. */
  @TaskHandler('io')
  async io(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, IO_WAIT_MS));
  }
}

interface Producer {
  close(): Promise<void>;
  queue: TaskQueue;
  bull: Queue;
}

async function bootProducer(
  connection: TaskQueueConnection,
  queueName: string,
  prefix: string | undefined,
): Promise<Producer> {
  @Module({
    imports: [
      TaskQueueModule.forRoot({
        queueName,
        driver: 'bullmq',
        connection,
        prefix,
        workers: false,
        attempts: 1,
        warnWithoutShutdownHooks: false,
      }),
    ],
    providers: [NoopHandlers],
  })
  class ProducerModule {}
  const app = await NestFactory.createApplicationContext(ProducerModule, { logger: ['error'] });
  const queue = app.get(TaskQueue);
  return { queue, bull: queue.bullQueue as Queue, close: () => app.close() };
}

function startWorker(
  connection: TaskQueueConnection,
  queueName: string,
  prefix: string | undefined,
  io = false,
): Promise<ChildProcess> {
  // The I/O worker is this file in worker mode (see ioWorker): the handler lives here.
  const entry = io ? fileURLToPath(import.meta.url) : `${root}bench/support/scale-out-worker.ts`;
  const child = fork(entry, [], {
    cwd: root,
    execArgv: ['--import', '@swc-node/register/esm-register'],
    env: {
      ...process.env,
      SCALE_CONNECTION: JSON.stringify(connection),
      SCALE_QUEUE: queueName,
      ...(prefix !== undefined ? { SCALE_PREFIX: prefix } : {}),
      SCALE_CONCURRENCY: String(io ? IO_CONCURRENCY : CONCURRENCY),
      ...(io ? { SCALE_IO_WORKER: '1' } : {}),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  return new Promise((resolve, reject) => {
    child.once('message', (m) => (m === 'ready' ? resolve(child) : reject(new Error(`worker said ${String(m)}`))));
    child.once('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready`)));
  });
}

async function stopWorker(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send('stop');
  await exited;
}

async function drained(bulls: Queue[]): Promise<void> {
  for (;;) {
    let busy = 0;
    for (const bull of bulls) {
      const c = await bull.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
      busy += c.waiting + c.active + c.delayed + c.prioritized;
    }
    if (busy === 0) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  for (const bull of bulls) {
    const { failed } = await bull.getJobCounts('failed');
    if (failed > 0) throw new Error(`${failed} tasks failed during the bench`);
  }
}

/**
 * One round: `queues` queues, each with `workersPerQueue` worker processes. Returns completed tasks per second,
 * from resuming the (full, paused) queues until all are empty.
 */
async function round(
  connection: TaskQueueConnection,
  names: string[],
  workersPerQueue: number,
  prefixOf: (q: string) => string | undefined,
  task: { name: 'noop' | 'io'; total: number } = { name: 'noop', total: TOTAL_TASKS },
): Promise<number> {
  const queues = names.length;
  const producers = await Promise.all(names.map((n) => bootProducer(connection, n, prefixOf(n))));
  const workers: ChildProcess[] = [];
  try {
    const perQueue = task.total / queues;
    for (const p of producers) {
      await p.bull.pause();
      for (let i = 0; i < perQueue; i += 1000) {
        const n = Math.min(1000, perQueue - i);
        await p.queue.enqueueMany(Array.from({ length: n }, (_, j) => ({ name: task.name, payload: { i: i + j } })));
      }
    }
    for (const name of names) {
      for (let w = 0; w < workersPerQueue; w++) {
        workers.push(await startWorker(connection, name, prefixOf(name), task.name === 'io'));
      }
    }
    const start = performance.now();
    await Promise.all(producers.map((p) => p.bull.resume()));
    await drained(producers.map((p) => p.bull));
    return (task.total / (performance.now() - start)) * 1000;
  } finally {
    await Promise.all(workers.map(stopWorker));
    for (const p of producers) {
      await p.bull.obliterate({ force: true });
      await p.close();
    }
  }
}

/**
 * `count` queue names whose hash tags (`{name}`, the default prefix on a cluster) are served by different masters,
 * so N queues really use N masters instead of landing on one by chance.
 */
async function namesOnDistinctMasters(cluster: RedisCluster, label: string, count: number): Promise<string[]> {
  const client = new Cluster(cluster.seeds);
  try {
    const ranges = await client.cluster('SLOTS');
    const masterOf = (slot: number) => ranges.find(([from, to]) => slot >= from && slot <= to)?.[2][1];
    const names: string[] = [];
    const used = new Set<number | undefined>();
    for (let k = 0; names.length < count; k++) {
      const name = `${label}-${k}`;
      const master = masterOf(Number(await client.cluster('KEYSLOT', `{${name}}`)));
      if (!used.has(master)) {
        used.add(master);
        names.push(name);
      }
    }
    return names;
  } finally {
    client.disconnect();
  }
}

/**
 * Three replicas (own processes) of an app declaring `@ScheduledTask('tick', { everyMs })` on one Redis: each
 * run counts itself in Redis by task id, so runs per occurrence must be exactly 1.
 */
async function scheduleReplicas(url: string): Promise<Record<string, number>> {
  const prefix = `bench:schedule:${Date.now()}`;
  const fixture = `${root}libs/task-queue/src/drivers/schedule-replica.fixture.ts`;
  const replicas = ['a', 'b', 'c'].map((label) =>
    fork(fixture, [], {
      cwd: root,
      execArgv: ['--import', '@swc-node/register/esm-register'],
      env: { ...process.env, REDIS_URL: url, PREFIX: prefix, LABEL: label, EVERY_MS: String(SCHEDULE_EVERY_MS) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    }),
  );
  const redis = new Redis(url);
  try {
    await new Promise((resolve) => setTimeout(resolve, SCHEDULE_RUN_MS));
    const keys = await redis.keys(`${prefix}:runs:*`);
    const runs = await Promise.all(keys.map(async (key) => Number(await redis.get(key))));
    const total = runs.reduce((a, b) => a + b, 0);
    console.log(`schedule every ${SCHEDULE_EVERY_MS} ms on 3 replicas for ${SCHEDULE_RUN_MS} ms: ${keys.length} occurrences, ${total} runs, most runs of one occurrence ${Math.max(0, ...runs)}`);
    return {
      scheduled_occurrences_replicas_3: keys.length,
      scheduled_runs_per_occurrence_replicas_3: keys.length === 0 ? 0 : total / keys.length,
      scheduled_max_runs_of_one_occurrence_replicas_3: Math.max(0, ...runs),
    };
  } finally {
    for (const replica of replicas) {
      const exited = new Promise((resolve) => replica.once('exit', resolve));
      replica.kill('SIGTERM');
      await exited;
    }
    await redis.quit();
  }
}

/** Worker mode (SCALE_IO_WORKER): this file, forked by startWorker, runs the I/O handler. */
async function ioWorker(): Promise<void> {
  const connection = JSON.parse(process.env.SCALE_CONNECTION as string) as TaskQueueConnection;
  @Module({
    imports: [
      TaskQueueModule.forRoot({
        queueName: process.env.SCALE_QUEUE,
        driver: 'bullmq',
        connection,
        prefix: process.env.SCALE_PREFIX,
        concurrency: Number(process.env.SCALE_CONCURRENCY),
        warnWithoutShutdownHooks: false,
      }),
    ],
    providers: [NoopHandlers],
  })
  class IoWorkerModule {}
  const app = await NestFactory.createApplicationContext(IoWorkerModule, { logger: ['error'] });
  process.on('message', (message) => {
    if (message === 'stop') void app.close().then(() => process.exit(0));
  });
  process.send?.('ready');
}

async function main() {
  const metrics: Record<string, number> = {
    cpu_cores: availableParallelism(),
    load_avg_1m_at_start: loadavg()[0],
  };

  // 1. One Redis: the same queue served by 1, then 2 worker processes (alternating order between rounds).
  const server = await RedisServer.start();
  try {
    const url = { url: server.url };
    // I/O-bound: each worker can have only IO_CONCURRENCY tasks waiting at once, so more processes should help in
    // proportion, unless the queue itself serialises them.
    const byIoWorkers: Record<1 | 2 | 4, number[]> = { 1: [], 2: [], 4: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const w of r % 2 === 0 ? ([1, 2, 4] as const) : ([4, 2, 1] as const)) {
        const perS = await round(url, [`io-r${r}-w${w}`], w, () => `bench:io:${r}:${w}`, { name: 'io', total: IO_TASKS });
        byIoWorkers[w].push(perS);
        console.log(`one Redis, I/O handlers (${IO_WAIT_MS} ms, concurrency ${IO_CONCURRENCY}), ${w} worker process(es), round ${r + 1}: ${perS.toFixed(0)} tasks/s`);
      }
    }
    for (const w of [1, 2, 4] as const) metrics[`bullmq_io_jobs_per_s_workers_${w}`] = median(byIoWorkers[w]);
    metrics.bullmq_io_workers_2_vs_1_ratio = metrics.bullmq_io_jobs_per_s_workers_2 / metrics.bullmq_io_jobs_per_s_workers_1;
    metrics.bullmq_io_workers_4_vs_1_ratio = metrics.bullmq_io_jobs_per_s_workers_4 / metrics.bullmq_io_jobs_per_s_workers_1;
    metrics.bullmq_io_ideal_jobs_per_s_per_worker = (IO_CONCURRENCY * 1000) / IO_WAIT_MS;
    Object.assign(metrics, await scheduleReplicas(server.url));

    const byWorkers: Record<1 | 2, number[]> = { 1: [], 2: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const w of r % 2 === 0 ? ([1, 2] as const) : ([2, 1] as const)) {
        const perS = await round(url, [`single-r${r}-w${w}`], w, () => `bench:scale:${r}:${w}`);
        byWorkers[w].push(perS);
        console.log(`one Redis, ${w} worker process(es), round ${r + 1}: ${perS.toFixed(0)} tasks/s`);
      }
    }
    metrics.bullmq_jobs_per_s_workers_1 = median(byWorkers[1]);
    metrics.bullmq_jobs_per_s_workers_2 = median(byWorkers[2]);
    metrics.bullmq_workers_2_vs_1_ratio = metrics.bullmq_jobs_per_s_workers_2 / metrics.bullmq_jobs_per_s_workers_1;
  } finally {
    await server.stop();
  }

  // 2. A 3-master cluster: N queues (default prefix {queueName}: one slot each), one worker process per queue.
  const cluster = await RedisCluster.start();
  try {
    const connection = { cluster: cluster.seeds };
    const byQueues: Record<number, number[]> = { 1: [], 2: [], 3: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const n of r % 2 === 0 ? [1, 2, 3] : [3, 2, 1]) {
        const perS = await round(
          connection,
          await namesOnDistinctMasters(cluster, `cluster-r${r}-q${n}`, n),
          1,
          () => undefined,
        );
        byQueues[n].push(perS);
        console.log(`cluster, ${n} queue(s) with one worker process each, round ${r + 1}: ${perS.toFixed(0)} tasks/s`);
      }
    }
    for (const n of [1, 2, 3]) metrics[`cluster_jobs_per_s_queues_${n}`] = median(byQueues[n]);
  } finally {
    await cluster.stop();
  }
  metrics.load_avg_1m_at_end = loadavg()[0];

  writeResults('scale-out', metrics);
}

if (process.env.SCALE_IO_WORKER) await ioWorker();
else await main();
