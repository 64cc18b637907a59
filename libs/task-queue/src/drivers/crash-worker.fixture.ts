// A worker instance for the crash test: runs "reserve-stock" tasks, each guarded by its own idempotency record, and
// prints what it does so the test can kill it mid-task.
import 'reflect-metadata';
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { OnTaskEvent } from '../decorators/on-task-event.decorator.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { TaskEvent } from '../interfaces/task-event.interface.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';

const url = process.env.REDIS_URL as string;
const prefix = process.env.PREFIX as string;
const label = process.env.LABEL as string;

@Injectable()
class Stock implements OnApplicationShutdown {
  private readonly redis = new Redis(url);

  @TaskHandler('reserve-stock')
  async reserve(payload: { orderId: string }, context: TaskContext): Promise<string> {
    await this.redis.incr(`${prefix}:runs:${payload.orderId}`);
    console.log(`START ${label} ${context.id} ${payload.orderId}`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    // The handler's own idempotency: only the first run to get here applies the effect.
    if (await this.redis.set(`${prefix}:done:${payload.orderId}`, label, 'NX')) {
      await this.redis.incr(`${prefix}:effects:${payload.orderId}`);
    }
    console.log(`DONE ${label} ${context.id}`);
    return label;
  }

  @OnTaskEvent('stalled')
  stalled(event: TaskEvent): void {
    console.log(`STALLED ${label} ${event.id} ${event.name}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }
}

@Module({
  imports: [
    TaskQueueModule.forRoot({
      driver: 'bullmq',
      connection: { url },
      prefix,
      concurrency: 2,
      // Short lock and stall check, so a killed worker's task is picked up again within about a second.
      bullmq: { lockDurationMs: 1_000, stalledIntervalMs: 500, maxStalledCount: 5 },
    }),
  ],
  providers: [Stock],
})
class WorkerModule {}

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
console.log(`READY ${label}`);
