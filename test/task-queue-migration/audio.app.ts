// The nestjs/nest sample `sample/26-queues` (an `audio` queue: a controller adds a `transcode` job, a consumer
// reports progress, an `@OnWorkerEvent('active')` method logs) moved onto @nest-scale/task-queue the way
// libs/task-queue/README.md section 9 says: `BullModule.forRoot` kept for its connection, one handler per task name,
// `@OnTaskEvent` for the worker events, `@InjectQueue` producers left as they were.
import {
  Controller,
  Get,
  Injectable,
  Module,
  Param,
  Post,
  type DynamicModule,
  type OnApplicationShutdown,
} from '@nestjs/common';
import { BullModule, InjectQueue } from '@nestjs/bullmq';
import type { Queue } from 'bullmq';
import {
  InjectTaskQueue,
  OnTaskEvent,
  TaskHandler,
  TaskQueue,
  TaskQueueModule,
  type TaskContext,
  type TaskEvent,
} from '@nest-scale/task-queue';

export type AudioRole = 'api' | 'worker' | 'both';

export interface AudioAppOptions {
  role: AudioRole;
  driver: 'bullmq' | 'memory';
  redisUrl?: string;
  prefix?: string;
}

/** Was `@InjectQueue('audio') audioQueue: Queue` + `audioQueue.add('transcode', { file })`: both ways still work. */
@Controller('audio')
class AudioController {
  constructor(
    @InjectTaskQueue('audio') private readonly audioQueue: TaskQueue,
    @InjectQueue('audio') private readonly rawQueue: Queue | null,
  ) {}

  @Post('transcode')
  async transcode() {
    const { id } = await this.audioQueue.enqueue('transcode', { file: 'audio.mp3' });
    return { id };
  }

  /** The sample's producer, unchanged: the raw BullMQ queue (absent on the memory driver). */
  @Post('transcode-raw')
  async transcodeRaw() {
    if (this.rawQueue === null) return { id: null };
    const job = await this.rawQueue.add('transcode', { file: 'raw.mp3' });
    return { id: job.id };
  }

  @Get(':id')
  async task(@Param('id') id: string) {
    return (await this.audioQueue.getTask(id)) ?? { state: 'unknown' };
  }
}

/** Was `@Processor('audio') class AudioConsumer extends WorkerHost` with a `switch (job.name)`. */
@Injectable()
class AudioConsumer {
  @TaskHandler('transcode', { queue: 'audio' })
  async transcode(payload: { file: string }, context: TaskContext) {
    for (let progress = 10; progress <= 100; progress += 10) await context.progress(progress);
    await context.log(`transcoded ${payload.file}`);
    return { file: payload.file, format: 'ogg' };
  }
}

/** Was `@OnWorkerEvent('active') onActive(job)` logging; here each event is one line the test reads. */
@Injectable()
class AudioEvents implements OnApplicationShutdown {
  @OnTaskEvent('enqueued', { queue: 'audio' })
  @OnTaskEvent('active', { queue: 'audio' })
  @OnTaskEvent('progress', { queue: 'audio' })
  @OnTaskEvent('completed', { queue: 'audio' })
  print(event: TaskEvent) {
    const { id, name, attempt, progress, result } = event;
    process.stdout.write(`EVENT ${JSON.stringify({ event: event.event, id, name, attempt, progress, result })}\n`);
  }

  /** After the queue drained and closed (it shuts down before this provider's module): the shutdown was graceful. */
  onApplicationShutdown(signal?: string) {
    process.stdout.write(`SHUTDOWN ${signal ?? 'close'}\n`);
  }
}

@Module({
  imports: [TaskQueueModule.registerQueue({ name: 'audio' })],
  controllers: [AudioController],
  providers: [AudioConsumer, AudioEvents],
})
class AudioModule {}

export function audioAppModule(options: AudioAppOptions): DynamicModule {
  const workers = options.role !== 'api';
  const bull = options.driver === 'bullmq';
  const url = bull ? new URL(options.redisUrl ?? 'redis://127.0.0.1:6379') : undefined;
  return {
    module: class AudioAppModule {},
    imports: [
      ...(url
        ? [BullModule.forRoot({ connection: { host: url.hostname, port: Number(url.port) }, prefix: options.prefix })]
        : []),
      // No `connection`: the BullModule.forRoot one (and its prefix) is reused.
      TaskQueueModule.forRoot({ driver: options.driver, workers, shutdownDeadlineMs: 5_000 }),
      AudioModule,
    ],
  };
}
