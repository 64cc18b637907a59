// A worker-only process for bench/scale-out.bench.ts: boots TaskQueueModule (bullmq driver) with a no-op handler
// on the queue named in SCALE_QUEUE, tells its parent "ready" over IPC, and closes the app on "stop".
import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TaskHandler, TaskQueueModule, type TaskQueueConnection } from '@nest-scale/task-queue';

@Injectable()
class NoopHandlers {
  @TaskHandler('noop')
  async noop(): Promise<void> {}
}

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
class WorkerModule {}

const app = await NestFactory.createApplicationContext(WorkerModule, { logger: ['error'] });
process.on('message', (message) => {
  if (message === 'stop') void app.close().then(() => process.exit(0));
});
process.send?.('ready');
