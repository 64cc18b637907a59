// An application for the shutdown tests: BullMQ driver on REDIS_URL, optionally one task running that ignores its
// signal. On SIGUSR2 it closes the application and prints how long that took; it never calls process.exit, so it
// exits only if the close left nothing (sockets, timers) keeping the event loop alive.
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';

const url = process.env.REDIS_URL as string;

@Injectable()
class Stuck {
  @TaskHandler('stuck')
  async run(): Promise<void> {
    console.log('STARTED');
    await new Promise(() => {});
  }
}

@Module({
  imports: [
    TaskQueueModule.forRoot({
      driver: 'bullmq',
      connection: { url },
      prefix: process.env.PREFIX,
      shutdownDeadlineMs: Number(process.env.DEADLINE_MS),
      enqueueTimeoutMs: 1_000,
      warnWithoutShutdownHooks: false,
    }),
  ],
  providers: [Stuck],
})
class ShutdownModule {}

const app = await NestFactory.createApplicationContext(ShutdownModule, { logger: ['error', 'warn'] });
if (process.env.ENQUEUE === '1') await app.get(TaskQueue).enqueue('stuck', {});
process.once('SIGUSR2', async () => {
  const started = performance.now();
  await app.close();
  console.log(`CLOSED ${Math.round(performance.now() - started)}`);
  // Printed only if something still holds the process, to show what.
  setTimeout(() => console.log('HANDLES', process.getActiveResourcesInfo().join(',')), 1500).unref();
});
console.log('READY');
