// One replica of an app that declares a schedule (or, with SCHEDULE=off, one that no longer does), for the
// schedule test and the scale-out bench: each run of the scheduled task counts itself in Redis by task id.
import 'reflect-metadata';
import { Injectable, Module, type OnApplicationShutdown } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Redis } from 'ioredis';
import { ScheduledTask } from '../decorators/scheduled-task.decorator.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';

const url = process.env.REDIS_URL as string;
const prefix = process.env.PREFIX as string;
const label = process.env.LABEL as string;
const everyMs = Number(process.env.EVERY_MS ?? 500);

@Injectable()
class Counter implements OnApplicationShutdown {
  private readonly redis = new Redis(url);

  async count(context: TaskContext): Promise<void> {
    await this.redis.incr(`${prefix}:runs:${context.id}`);
    console.log(`RUN ${label} ${context.id}`);
  }

  async onApplicationShutdown(): Promise<void> {
    await this.redis.quit();
  }
}

@Injectable()
class Scheduled {
  constructor(private readonly counter: Counter) {}

  @ScheduledTask('tick', { everyMs })
  tick(_: unknown, context: TaskContext) {
    return this.counter.count(context);
  }
}

/** The same app after the schedule was deleted from the code: the task stays, the schedule goes. */
@Injectable()
class Unscheduled {
  constructor(private readonly counter: Counter) {}

  @TaskHandler('tick')
  tick(_: unknown, context: TaskContext) {
    return this.counter.count(context);
  }
}

@Module({
  imports: [TaskQueueModule.forRoot({ driver: 'bullmq', connection: { url }, prefix, concurrency: 4 })],
  providers: [Counter, process.env.SCHEDULE === 'off' ? Unscheduled : Scheduled],
})
class ReplicaModule {}

const app = await NestFactory.createApplicationContext(ReplicaModule, { logger: ['error', 'warn'] });
app.enableShutdownHooks();
console.log(`READY ${label}`);
