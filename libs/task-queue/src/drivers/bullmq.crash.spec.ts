import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import type { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NodeProcess, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { until } from './driver.conformance.js';

const FIXTURE = 'libs/task-queue/src/drivers/crash-worker.fixture.ts';

/** The web side only enqueues; it declares the handler so the task name is known, but runs no worker. */
@Injectable()
class StockStub {
  @TaskHandler('reserve-stock')
  reserve(): never {
    throw new Error('runs on the worker processes only');
  }
}

describe('bullmq driver: a worker process killed with SIGKILL mid-task', () => {
  const prefix = uniquePrefix('crash');
  let workers: NodeProcess[] = [];
  let web: TestingModule | undefined;
  let redis: Redis | undefined;

  afterAll(async () => {
    for (const worker of workers) await worker.stop(5_000);
    await web?.close();
    await redis?.quit();
  });

  it('loses nothing: every task completes, and each effect is applied exactly once', async () => {
    workers = ['a', 'b'].map((label) =>
      NodeProcess.start(`worker-${label}`, FIXTURE, { REDIS_URL: redisUrl(), PREFIX: prefix, LABEL: label }),
    );
    const [a, b] = workers;
    await a.waitFor(/READY a/, 30_000);
    await b.waitFor(/READY b/, 30_000);

    web = await Test.createTestingModule({
      imports: [
        TaskQueueModule.forRoot({
          driver: 'bullmq',
          connection: { url: redisUrl() },
          prefix,
          workers: false,
          warnWithoutShutdownHooks: false,
        }),
      ],
      providers: [StockStub],
    }).compile();
    await web.init();
    const queue = web.get(TaskQueue);
    const orders = Array.from({ length: 20 }, (_, i) => `order:${i}/eu`);
    const refs = await queue.enqueueMany(
      orders.map((orderId) => ({ name: 'reserve-stock', payload: { orderId }, options: { dedupKey: orderId } })),
    );
    // A client retrying its enqueue (same dedupKey) does not add work.
    const again = await queue.enqueueMany(
      orders
        .slice(0, 5)
        .map((orderId) => ({ name: 'reserve-stock', payload: { orderId }, options: { dedupKey: orderId } })),
    );
    expect(again.map((r) => r.id)).toEqual(refs.slice(0, 5).map((r) => r.id));

    const [, killedTaskId] = (await a.waitFor(/START a (\S+) /, 20_000)) as RegExpExecArray;
    await a.kill();

    const bull = queue.bullQueue as Queue;
    await until(async () => (await bull.getJobCounts('completed')).completed === 20, 30_000);
    const counts = await bull.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
    expect(counts).toEqual({ waiting: 0, active: 0, delayed: 0, failed: 0, completed: 20 });

    redis = new Redis(redisUrl());
    const effects = await Promise.all(
      orders.map(async (orderId) => [orderId, await redis?.get(`${prefix}:effects:${orderId}`)]),
    );
    expect(effects).toEqual(orders.map((orderId) => [orderId, '1']));
    // The task the killed worker was running ran again on the survivor, and completed there.
    expect(
      Number(await redis.get(`${prefix}:runs:${(await bull.getJob(killedTaskId))?.data.orderId}`)),
    ).toBeGreaterThanOrEqual(2);
    expect((await queue.getTask(killedTaskId))?.state).toBe('completed');
    expect(b.log).toContain(`DONE b ${killedTaskId}`);
    // Issue 15 item 2: the survivor's stall check found the task and emitted `stalled` (an @OnTaskEvent there).
    expect(b.log).toContain(`STALLED b ${killedTaskId} reserve-stock`);
  }, 90_000);
});
