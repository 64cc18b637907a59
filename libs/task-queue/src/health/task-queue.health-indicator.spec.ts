import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { freePort, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { TaskQueueModuleOptions } from '../interfaces/task-queue-options.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { TaskQueueHealthIndicator } from './task-queue.health-indicator.js';

@Injectable()
class Handlers {
  @TaskHandler('noop')
  noop() {}
}

async function boot(options: TaskQueueModuleOptions) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options }),
    ],
    providers: [Handlers, TaskQueueHealthIndicator],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return {
    app,
    health: app.get(HealthCheckService),
    indicator: app.get(TaskQueueHealthIndicator),
    queue: app.get(TaskQueue),
  };
}

describe('TaskQueueHealthIndicator with @nestjs/terminus', () => {
  it('is up with its counts, and degraded past maxWaiting', async () => {
    const { app, health, indicator, queue } = await boot({ driver: 'memory', workers: false });
    try {
      const up = await health.check([() => indicator.isHealthy('queue', { maxWaiting: 1 })]);
      expect(up.status).toBe('ok');
      expect(up.details.queue).toEqual({ status: 'up', driver: 'memory', waiting: 0, active: 0, delayed: 0, dead: 0 });
      await queue.enqueueMany([
        { name: 'noop', payload: 1 },
        { name: 'noop', payload: 2 },
      ]);
      const degraded = await health.check([() => indicator.isHealthy('queue', { maxWaiting: 1 })]);
      expect(degraded.status).toBe('degraded');
      expect(degraded.details.queue).toMatchObject({ status: 'degraded', waiting: 2 });
    } finally {
      await app.close();
    }
  });

  it('is down (or degraded, when asked) when the backend does not answer in time', async () => {
    const port = await freePort();
    const { app, health, indicator } = await boot({
      driver: 'bullmq',
      connection: { url: `redis://127.0.0.1:${port}` },
      workers: false,
      shutdownDeadlineMs: 500,
    });
    try {
      await expect(health.check([() => indicator.isHealthy('queue', { timeoutMs: 300 })])).rejects.toMatchObject({
        response: {
          status: 'error',
          error: { queue: { status: 'down', message: expect.stringMatching(/unreachable/) } },
        },
      });
      const degraded = await indicator.isHealthy('queue', { timeoutMs: 300, whenUnreachable: 'degraded' });
      expect(degraded.queue.status).toBe('degraded');
    } finally {
      await app.close();
    }
  });

  it.each([
    ['memory', (): TaskQueueModuleOptions => ({ driver: 'memory', workers: false })],
    [
      'bullmq',
      (): TaskQueueModuleOptions => ({
        driver: 'bullmq',
        connection: { url: redisUrl() },
        prefix: uniquePrefix('health-age'),
        workers: false,
      }),
    ],
  ])('on %s, is degraded once the oldest waiting task is older than maxOldestWaitingMs', async (_driver, options) => {
    const { app, health, indicator, queue } = await boot(options());
    try {
      expect(await queue.oldestWaitingAgeMs()).toBeUndefined();
      const idle = await health.check([() => indicator.isHealthy('queue', { maxOldestWaitingMs: 20 })]);
      expect(idle.details.queue).toMatchObject({ status: 'up', oldestWaitingMs: 0 });

      // No worker runs here: the tasks wait. The first is the oldest, whatever comes after it.
      const enqueuedAt = Date.now();
      await queue.enqueue('noop', 1);
      await new Promise((resolve) => setTimeout(resolve, 60));
      await queue.enqueue('noop', 2);
      const age = await queue.oldestWaitingAgeMs();
      expect(age).toBeGreaterThanOrEqual(50);
      expect(age).toBeLessThanOrEqual(Date.now() - enqueuedAt + 5);

      const stale = await health.check([() => indicator.isHealthy('queue', { maxOldestWaitingMs: 20 })]);
      expect(stale.status).toBe('degraded');
      expect(stale.details.queue).toMatchObject({ status: 'degraded', waiting: 2 });
      expect(Number(stale.details.queue?.oldestWaitingMs)).toBeGreaterThanOrEqual(50);
      const fresh = await health.check([() => indicator.isHealthy('queue', { maxOldestWaitingMs: 60_000 })]);
      expect(fresh.details.queue).toMatchObject({ status: 'up', waiting: 2 });
    } finally {
      await app.close();
    }
  });

  it('on memory, a prioritized task counts too (the scan of the priority heap)', async () => {
    const { app, queue } = await boot({ driver: 'memory', workers: false });
    try {
      await queue.enqueue('noop', 1, { priority: 5 });
      await new Promise((resolve) => setTimeout(resolve, 60));
      await queue.enqueue('noop', 2);
      expect(await queue.oldestWaitingAgeMs()).toBeGreaterThanOrEqual(50);
    } finally {
      await app.close();
    }
  });
});
