import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { freePort } from '../../../../test/harness/index.js';
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
});
