// Task queue: memory driver vs fastq vs p-queue (100k no-op tasks), BullMQ driver vs raw BullMQ (20k no-op jobs,
// same concurrency, same Redis), enqueue latency, and a batch handler vs single runs for an I/O-bound handler.
// Run: `npm run bench -- task-queue`.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { metrics as otelMetrics } from '@opentelemetry/api';
import { PrometheusExporter } from '@opentelemetry/exporter-prometheus';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import {
  type BatchTask,
  TaskHandler,
  TaskQueue,
  TaskQueueModule,
  type TaskQueueModuleOptions,
  TASK_QUEUE_PROMETHEUS_VIEWS,
} from '@nest-scale/task-queue';
import { Queue, Worker } from 'bullmq';
import fastq from 'fastq';
import PQueue from 'p-queue';
import { RedisServer } from '../test/harness/redis-server.js';
import { median, percentile, writeResults } from './support/results.js';

const MEMORY_TASKS = 100_000;
const MEMORY_CONCURRENCY = 16;
const BULL_JOBS = 20_000;
const BULL_CONCURRENCY = 50;
const ROUNDS = 5;
/**
 * BullMQ rounds are noisier (two processes on two cores, the network stack): one round's throughput moves by ±15 %
 * with the machine, so more of them, after one discarded warm-up pair, and the ratios are taken per pair of adjacent
 * rounds (which share the machine's state) before the median.
 */
const BULL_ROUNDS = 11;
const LATENCY_SAMPLES = 2_000;

/** The batch comparison: 100 tasks, a downstream that serves 10 calls at once and takes 10 ms per call. */
const BATCH_TASKS = 100;
const DOWNSTREAM_PARALLELISM = 10;
const DOWNSTREAM_CALL_MS = 10;

/** A downstream (a bulk API, a database) whose cost is per call, whatever the call carries. */
class Downstream {
  private free = DOWNSTREAM_PARALLELISM;
  private readonly waiting: (() => void)[] = [];

  async call(): Promise<void> {
    if (this.free > 0) this.free--;
    else await new Promise<void>((resolve) => this.waiting.push(resolve));
    await new Promise((resolve) => setTimeout(resolve, DOWNSTREAM_CALL_MS));
    const next = this.waiting.shift();
    if (next) next();
    else this.free++;
  }
}
const downstream = new Downstream();

@Injectable()
class NoopHandlers {
  @TaskHandler('noop')
  async noop(): Promise<void> {}
}

/** Only on the batch comparison's queue (its concurrency must cover the batch size). */
@Injectable()
class IoHandlers {
  @TaskHandler('io-single')
  async single(): Promise<void> {
    await downstream.call();
  }

  @TaskHandler('io-batch', { batch: { maxSize: BATCH_TASKS, maxWaitMs: 20 } })
  async batch(tasks: BatchTask[]): Promise<void> {
    if (tasks.length > 0) await downstream.call();
  }
}

/** Milliseconds to run BATCH_TASKS tasks of `name` on the memory driver, from enqueue to idle. */
async function ioRound(queue: TaskQueue, name: 'io-single' | 'io-batch'): Promise<number> {
  const start = performance.now();
  await queue.enqueueMany(Array.from({ length: BATCH_TASKS }, (_, i) => ({ name, payload: { i } })));
  await queue.waitUntilIdle();
  return performance.now() - start;
}

async function bootQueue(options: TaskQueueModuleOptions, handlers: (typeof NoopHandlers | typeof IoHandlers)[] = [NoopHandlers]) {
  @Module({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options })],
    providers: handlers,
  })
  class BenchModule {}
  const app = await NestFactory.createApplicationContext(BenchModule, { logger: ['error'] });
  return { app, queue: app.get(TaskQueue) };
}

const perSecond = (count: number, ms: number) => (count / ms) * 1000;

async function memoryDriverRound(queue: TaskQueue): Promise<number> {
  const start = performance.now();
  for (let i = 0; i < MEMORY_TASKS; i++) void queue.enqueue('noop', { i });
  await queue.waitUntilIdle();
  return perSecond(MEMORY_TASKS, performance.now() - start);
}

async function fastqRound(): Promise<number> {
  const q = fastq.promise(async (_task: { i: number }) => {}, MEMORY_CONCURRENCY);
  const start = performance.now();
  for (let i = 0; i < MEMORY_TASKS; i++) void q.push({ i });
  await q.drained();
  return perSecond(MEMORY_TASKS, performance.now() - start);
}

const noop = async () => {};

async function pqueueRound(): Promise<number> {
  const q = new PQueue({ concurrency: MEMORY_CONCURRENCY });
  const start = performance.now();
  for (let i = 0; i < MEMORY_TASKS; i++) void q.add(noop);
  await q.onIdle();
  return perSecond(MEMORY_TASKS, performance.now() - start);
}

async function waitForCompleted(queue: Queue): Promise<void> {
  for (;;) {
    const c = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
    if (c.waiting + c.active + c.delayed + c.prioritized === 0) {
      const done = await queue.getJobCounts('completed', 'failed');
      if (done.failed > 0) throw new Error(`${done.failed} jobs failed during the bench`);
      return;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

interface BullRound {
  jobsPerS: number;
  enqueuePerS: number;
  /** CPU time of this process per job while draining: the client-side cost, less sensitive to machine load. */
  cpuUsPerJob: number;
}

const cpuUs = (since: NodeJS.CpuUsage) => {
  const used = process.cpuUsage(since);
  return used.user + used.system;
};

/** Starts a round on a collected heap, so one side does not pay for the garbage the other left behind. */
const collectGarbage = () => (globalThis as { gc?: () => void }).gc?.();

/**
 * Both sides measured alike: the worker is already connected and idle on a paused queue, the queue is filled in
 * bulk (1,000 per call) with the same job options (one attempt, the last 1,000 completed kept, failed kept), and
 * the clock runs from `resume()` until every job has completed.
 */
async function bullDriverRound(url: string, prefix: string): Promise<BullRound> {
  const { app, queue } = await bootQueue({
    driver: 'bullmq',
    connection: { url },
    prefix,
    concurrency: BULL_CONCURRENCY,
    attempts: 1,
  });
  const bull = queue.bullQueue as Queue;
  await bull.pause();
  const enqStart = performance.now();
  for (let i = 0; i < BULL_JOBS; i += 1000) {
    await queue.enqueueMany(Array.from({ length: 1000 }, (_, j) => ({ name: 'noop', payload: { i: i + j } })));
  }
  const enqueuePerS = perSecond(BULL_JOBS, performance.now() - enqStart);
  collectGarbage();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await bull.resume();
  await waitForCompleted(bull);
  const jobsPerS = perSecond(BULL_JOBS, performance.now() - start);
  const cpuUsPerJob = cpuUs(cpu) / BULL_JOBS;
  await bull.obliterate({ force: true });
  await app.close();
  return { jobsPerS, enqueuePerS, cpuUsPerJob };
}

async function bullRawRound(url: string, prefix: string): Promise<BullRound> {
  const queue = new Queue('raw', { connection: { url }, prefix });
  const worker = new Worker('raw', async () => {}, { connection: { url }, prefix, concurrency: BULL_CONCURRENCY });
  await worker.waitUntilReady();
  await queue.pause();
  const enqStart = performance.now();
  for (let i = 0; i < BULL_JOBS; i += 1000) {
    await queue.addBulk(
      Array.from({ length: 1000 }, (_, j) => ({
        name: 'noop',
        data: { i: i + j },
        opts: { attempts: 1, removeOnComplete: { count: 1000 }, removeOnFail: false },
      })),
    );
  }
  const enqueuePerS = perSecond(BULL_JOBS, performance.now() - enqStart);
  collectGarbage();
  const cpu = process.cpuUsage();
  const start = performance.now();
  await queue.resume();
  await waitForCompleted(queue);
  const jobsPerS = perSecond(BULL_JOBS, performance.now() - start);
  const cpuUsPerJob = cpuUs(cpu) / BULL_JOBS;
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  return { jobsPerS, enqueuePerS, cpuUsPerJob };
}

async function latencies(fn: (i: number) => Promise<unknown>, samples: number): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t = process.hrtime.bigint();
    await fn(i);
    out.push(Number(process.hrtime.bigint() - t));
  }
  return out;
}

async function main() {
  const metrics: Record<string, number> = {};

  // 1. In-process: 100k no-op tasks, same concurrency, alternating rounds, median.
  const memory = await bootQueue({ driver: 'memory', concurrency: MEMORY_CONCURRENCY, attempts: 1 });
  // The same queue created while the OpenTelemetry SDK's MeterProvider is registered (the queue takes its meter at
  // construction; no tracer provider), measured in the same rounds; unregistered again so nothing else sees it.
  const otelReader = new PrometheusExporter({ preventServerStart: true });
  otelMetrics.setGlobalMeterProvider(
    new MeterProvider({ readers: [otelReader], views: [...TASK_QUEUE_PROMETHEUS_VIEWS] }),
  );
  const memoryOtel = await bootQueue({ driver: 'memory', concurrency: MEMORY_CONCURRENCY, attempts: 1 });
  otelMetrics.disable();
  await memoryDriverRound(memory.queue);
  await memoryDriverRound(memoryOtel.queue);
  await fastqRound();
  await pqueueRound();
  const mem: number[] = [];
  const memOtel: number[] = [];
  const fq: number[] = [];
  const pq: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    mem.push(await memoryDriverRound(memory.queue));
    memOtel.push(await memoryDriverRound(memoryOtel.queue));
    fq.push(await fastqRound());
    pq.push(await pqueueRound());
  }
  // The SDK saw every task: counted at enqueue, timed per run.
  const collected = (await otelReader.collect()).resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
  const runs = collected.find((m) => m.descriptor.name === 'messaging.process.duration_seconds')?.dataPoints[0];
  if ((runs?.value as { count?: number } | undefined)?.count !== (ROUNDS + 1) * MEMORY_TASKS) {
    throw new Error('the SDK did not record every run of the memory bench');
  }
  await memoryOtel.app.close();
  metrics.memory_tasks_per_s = median(mem);
  metrics.memory_tasks_per_s_otel_sdk = median(memOtel);
  metrics.memory_otel_sdk_vs_plain_ratio = metrics.memory_tasks_per_s_otel_sdk / metrics.memory_tasks_per_s;
  metrics.fastq_tasks_per_s = median(fq);
  metrics.pqueue_tasks_per_s = median(pq);
  metrics.memory_vs_fastq_ratio = metrics.memory_tasks_per_s / metrics.fastq_tasks_per_s;

  const memLat = await latencies((i) => memory.queue.enqueue('noop', { i }), 20_000);
  await memory.queue.waitUntilIdle();
  metrics.memory_enqueue_p50_us = percentile(memLat, 50) / 1e3;
  metrics.memory_enqueue_p99_us = percentile(memLat, 99) / 1e3;
  await memory.app.close();

  // 1b. Batch vs single, memory driver (concurrency 100, so the single runs are limited only by the downstream).
  const io = await bootQueue({ driver: 'memory', concurrency: BATCH_TASKS, attempts: 1 }, [IoHandlers]);
  await ioRound(io.queue, 'io-single');
  await ioRound(io.queue, 'io-batch');
  const singleMs: number[] = [];
  const batchMs: number[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    for (const name of r % 2 === 0 ? (['io-single', 'io-batch'] as const) : (['io-batch', 'io-single'] as const)) {
      (name === 'io-single' ? singleMs : batchMs).push(await ioRound(io.queue, name));
    }
  }
  metrics.io_single_100_tasks_ms = median(singleMs);
  metrics.io_batch_100_tasks_ms = median(batchMs);
  metrics.batch_vs_single_speedup = metrics.io_single_100_tasks_ms / metrics.io_batch_100_tasks_ms;
  console.log(
    `100 I/O tasks (downstream: ${DOWNSTREAM_PARALLELISM} calls at once, ${DOWNSTREAM_CALL_MS} ms each): ` +
      `single ${metrics.io_single_100_tasks_ms.toFixed(1)} ms, batch ${metrics.io_batch_100_tasks_ms.toFixed(1)} ms`,
  );
  await io.app.close();

  // 2. BullMQ on a Redis of our own (or REDIS_URL): driver vs raw, 20k no-op jobs, same concurrency.
  const server = process.env.REDIS_URL ? undefined : await RedisServer.start();
  const url = process.env.REDIS_URL ?? (server as RedisServer).url;
  try {
    const drv: BullRound[] = [];
    const raw: BullRound[] = [];
    // A discarded warm-up pair (JIT, connections), then rounds that alternate which side goes first, so a drift
    // in machine load does not favour one of them.
    await bullDriverRound(url, 'bench:tq:drv-warm');
    await bullRawRound(url, 'bench:tq:raw-warm');
    for (let r = 0; r < BULL_ROUNDS; r++) {
      if (r % 2 === 0) {
        drv.push(await bullDriverRound(url, `bench:tq:drv${r}`));
        raw.push(await bullRawRound(url, `bench:tq:raw${r}`));
      } else {
        raw.push(await bullRawRound(url, `bench:tq:raw${r}`));
        drv.push(await bullDriverRound(url, `bench:tq:drv${r}`));
      }
      const last = (side: BullRound[]) =>
        `${side.at(-1)?.jobsPerS.toFixed(0)} jobs/s, ${side.at(-1)?.cpuUsPerJob.toFixed(1)} µs CPU/job`;
      console.log(`BullMQ round ${r + 1}/${BULL_ROUNDS}: driver ${last(drv)}; raw ${last(raw)}`);
    }
    metrics.bullmq_driver_jobs_per_s = median(drv.map((d) => d.jobsPerS));
    metrics.bullmq_raw_jobs_per_s = median(raw.map((d) => d.jobsPerS));
    metrics.bullmq_driver_vs_raw_ratio = median(drv.map((d, i) => d.jobsPerS / raw[i].jobsPerS));
    metrics.bullmq_driver_enqueue_bulk_per_s = median(drv.map((d) => d.enqueuePerS));
    metrics.bullmq_raw_enqueue_bulk_per_s = median(raw.map((d) => d.enqueuePerS));
    metrics.bullmq_driver_cpu_us_per_job = median(drv.map((d) => d.cpuUsPerJob));
    metrics.bullmq_raw_cpu_us_per_job = median(raw.map((d) => d.cpuUsPerJob));
    metrics.bullmq_driver_vs_raw_cpu_ratio = median(drv.map((d, i) => d.cpuUsPerJob / raw[i].cpuUsPerJob));

    // 3. Single-enqueue latency against Redis (workers off, so only the producer path is measured).
    const producer = await bootQueue({ driver: 'bullmq', connection: { url }, prefix: 'bench:tq:lat', workers: false });
    await latencies((i) => producer.queue.enqueue('noop', { i }), 200);
    const drvLat = await latencies((i) => producer.queue.enqueue('noop', { i }), LATENCY_SAMPLES);
    metrics.enqueue_latency_p50_ms = percentile(drvLat, 50) / 1e6;
    metrics.enqueue_latency_p99_ms = percentile(drvLat, 99) / 1e6;
    await (producer.queue.bullQueue as Queue).obliterate({ force: true });
    await producer.app.close();
    const rawQueue = new Queue('rawlat', { connection: { url }, prefix: 'bench:tq:lat' });
    await latencies((i) => rawQueue.add('noop', { i }), 200);
    const rawLat = await latencies((i) => rawQueue.add('noop', { i }, { attempts: 3 }), LATENCY_SAMPLES);
    metrics.bullmq_raw_add_p50_ms = percentile(rawLat, 50) / 1e6;
    metrics.bullmq_raw_add_p99_ms = percentile(rawLat, 99) / 1e6;
    await rawQueue.obliterate({ force: true });
    await rawQueue.close();
  } finally {
    await server?.stop();
  }

  writeResults('task-queue', metrics);
}

await main();
