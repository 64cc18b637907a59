import { Injectable } from '@nestjs/common';
import { BullModule, InjectQueue } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { Queue } from 'bullmq';
import { RedisServer, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import { DEFAULT_QUEUE_NAME } from '../task-queue.constants.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import {
  bootConformanceApp,
  type ConformanceApp,
  ConformanceHandlers,
  type ConformanceOptions,
  describeTaskQueueConformance,
  Probe,
  sleep,
  until,
} from './driver.conformance.js';
import { describeSeveralQueuesConformance } from './several-queues.conformance.js';
import { describeTaskEventsConformance } from './task-events.conformance.js';
import { describeSchedulesConformance } from './schedules.conformance.js';
import { describeBatchConformance } from './batch.conformance.js';
import { describeFairnessConformance } from './fairness.conformance.js';
import { describeRateLimitConformance } from './rate-limit.conformance.js';

const bullmqOptions = (): ConformanceOptions => ({
  driver: 'bullmq',
  connection: { url: redisUrl() },
  prefix: uniquePrefix('tq'),
});

async function inspect(options: ConformanceOptions, id: string) {
  const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { url: redisUrl() }, prefix: options.prefix });
  try {
    const job = await queue.getJob(id);
    return { state: (await job?.getState()) ?? 'missing', attemptsMade: job?.attemptsMade ?? -1 };
  } finally {
    await queue.close();
  }
}

describeTaskQueueConformance('bullmq driver', bullmqOptions, { stateAfterShutdown: inspect });
describeSeveralQueuesConformance('bullmq driver', bullmqOptions);
describeTaskEventsConformance('bullmq driver', bullmqOptions);
describeSchedulesConformance('bullmq driver', bullmqOptions);
describeBatchConformance('bullmq driver', bullmqOptions);
describeFairnessConformance('bullmq driver', bullmqOptions);
describeRateLimitConformance('bullmq driver', bullmqOptions);

describe('bullmq driver specifics', () => {
  const apps: ConformanceApp[] = [];
  const boot = async (options: ConformanceOptions) => {
    const app = await bootConformanceApp(options);
    apps.push(app);
    return app;
  };

  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close();
  });

  it('exposes its BullMQ queue to @InjectQueue(queueName) and as bullQueue', async () => {
    @Injectable()
    class Dashboard {
      constructor(@InjectQueue('orders') readonly queue: Queue | null) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskQueueModule.forRoot({
          queueName: 'orders',
          driver: 'bullmq',
          connection: { url: redisUrl() },
          prefix: uniquePrefix('tq'),
          warnWithoutShutdownHooks: false,
        }),
      ],
      providers: [Dashboard, ConformanceHandlers, Probe],
    }).compile();
    await moduleRef.init();
    try {
      const injected = moduleRef.get(Dashboard).queue;
      expect(injected).toBeInstanceOf(Queue);
      expect(injected?.name).toBe('orders');
      expect(moduleRef.get(TaskQueue).bullQueue).toBe(injected);
      const ref = await moduleRef
        .get(TaskQueue)
        .enqueue('echo', { a: 1 }, { dedupKey: 'tenant:7/order:9', delayMs: 60_000 });
      const job = await injected?.getJob(ref.id);
      expect(job?.name).toBe('echo');
      expect(await injected?.getDeduplicationJobId('tenant:7/order:9')).toBe(ref.id);
    } finally {
      await moduleRef.close();
    }
  });

  it('issue 15: reuses a BullModule.forRoot connection and prefix when the module has no connection of its own', async () => {
    const prefix = uniquePrefix('tq-shared');
    const probe = new Probe();
    const moduleRef = await Test.createTestingModule({
      imports: [
        BullModule.forRoot({ connection: { url: redisUrl() } as never, prefix }),
        TaskQueueModule.forRoot({ driver: 'bullmq', warnWithoutShutdownHooks: false }),
      ],
      providers: [ConformanceHandlers, { provide: Probe, useValue: probe }],
    }).compile();
    await moduleRef.init();
    try {
      const queue = moduleRef.get(TaskQueue);
      const ref = await queue.enqueue('echo', 'shared');
      await until(async () => (await queue.getTask(ref.id))?.state === 'completed');
      expect(probe.calls.map((c) => c.payload)).toEqual(['shared']);
      expect(queue.bullQueue?.opts.prefix).toBe(prefix);
      expect(await queue.bullQueue?.getJobCountByTypes('completed')).toBe(1);
    } finally {
      await moduleRef.close();
    }
  });

  it('gives null to @InjectQueue with the memory driver', async () => {
    @Injectable()
    class Dashboard {
      constructor(@InjectQueue(DEFAULT_QUEUE_NAME) readonly queue: Queue | null) {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false })],
      providers: [Dashboard],
    }).compile();
    expect(moduleRef.get(Dashboard).queue).toBeNull();
    await moduleRef.close();
  });

  it('lets a web-only instance (workers: false) enqueue for a worker instance, which runs every task once', async () => {
    const shared = bullmqOptions();
    const web = await boot({ ...shared, workers: false });
    const worker = await boot({ ...shared, workers: true });
    const refs = await web.queue.enqueueMany(Array.from({ length: 20 }, (_, i) => ({ name: 'echo', payload: i })));
    await web.queue.waitUntilIdle({ timeoutMs: 10_000 });
    expect(web.probe.calls).toHaveLength(0);
    expect(worker.probe.calls.map((c) => c.payload).toSorted((a, b) => (a as number) - (b as number))).toEqual(
      Array.from({ length: 20 }, (_, i) => i),
    );
    expect((await web.queue.getTask(refs[0].id))?.state).toBe('completed');
  });

  it('spreads tasks over two worker instances without running any twice', async () => {
    const shared = bullmqOptions();
    const a = await boot({ ...shared, concurrency: 2 });
    const b = await boot({ ...shared, concurrency: 2 });
    for (const app of [a, b]) app.probe.behaviours.set('echo', () => sleep(20));
    await a.queue.enqueueMany(Array.from({ length: 40 }, (_, i) => ({ name: 'echo', payload: i })));
    await a.queue.waitUntilIdle({ timeoutMs: 20_000 });
    const all = [...a.probe.calls, ...b.probe.calls].map((c) => c.payload as number);
    expect(all.toSorted((x, y) => x - y)).toEqual(Array.from({ length: 40 }, (_, i) => i));
    expect(a.probe.calls.length).toBeGreaterThan(0);
    expect(b.probe.calls.length).toBeGreaterThan(0);
  });

  describe('when Redis stops during enqueue', () => {
    let server: RedisServer;

    beforeAll(async () => {
      // Append-only with fsync on every write: what Redis acknowledged survives its crash.
      server = await RedisServer.start({ args: ['--appendonly', 'yes', '--appendfsync', 'always'] });
    });

    afterAll(async () => {
      await server.stop();
    });

    it('fails the enqueue in bounded time, and processes the tasks enqueued before and after', async () => {
      const app = await boot({
        driver: 'bullmq',
        connection: { url: server.url },
        prefix: 'outage',
        enqueueTimeoutMs: 2_000,
      });
      const { queue, probe } = app;
      await queue.enqueueMany([1, 2, 3].map((n) => ({ name: 'echo', payload: `before-${n}` })));
      await queue.enqueue('echo', 'before-delayed', { delayMs: 2_500 });
      await until(() => probe.calls.length === 3);

      await server.kill();
      const started = Date.now();
      await expect(queue.enqueue('echo', 'during')).rejects.toBeInstanceOf(TaskEnqueueError);
      await expect(queue.enqueueMany([{ name: 'echo', payload: 'during-batch' }])).rejects.toThrow(/Could not enqueue/);
      expect(Date.now() - started).toBeLessThan(6_000);

      await server.restart();
      for (const n of [1, 2, 3]) {
        // A client would retry; with ioredis reconnecting in the background this succeeds within seconds.
        await until(async () => {
          try {
            await queue.enqueue('echo', `after-${n}`);
            return true;
          } catch {
            return false;
          }
        }, 30_000);
      }
      await until(() => probe.calls.length === 7, 30_000);
      expect(probe.calls.map((c) => c.payload).toSorted()).toEqual(
        ['after-1', 'after-2', 'after-3', 'before-1', 'before-2', 'before-3', 'before-delayed'].toSorted(),
      );
    }, 60_000);
  });
});
