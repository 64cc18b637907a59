// The nestjs/nest sample `sample/26-queues` (an audio queue: a controller enqueues "transcode", a consumer reports
// progress, a worker-event listener logs), moved onto @nest-scale/task-queue as the README's migration section
// describes, and driven over HTTP on both drivers.
import { Controller, Injectable, type INestApplication, Module, Post } from '@nestjs/common';
import { InjectQueue } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import type { Queue } from 'bullmq';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { InjectTaskQueue } from './decorators/inject-task-queue.decorator.js';
import { OnTaskEvent } from './decorators/on-task-event.decorator.js';
import { TaskHandler } from './decorators/task-handler.decorator.js';
import type { TaskContext } from './interfaces/task-context.interface.js';
import type { TaskEvent } from './interfaces/task-event.interface.js';
import type { TaskQueueModuleOptions } from './interfaces/task-queue-options.interface.js';
import { TaskQueueModule } from './task-queue.module.js';
import { TaskQueue } from './task-queue.service.js';
import { getTaskQueueToken } from './task-queue.tokens.js';

/** Was `@Controller('audio')` with `@InjectQueue('audio') audioQueue: Queue` and `audioQueue.add('transcode', …)`. */
@Controller('audio')
class AudioController {
  constructor(@InjectTaskQueue('audio') private readonly audioQueue: TaskQueue) {}

  @Post('transcode')
  async transcode() {
    const { id } = await this.audioQueue.enqueue('transcode', { file: 'audio.mp3' });
    return { id };
  }
}

/** Was `@Processor('audio') class AudioConsumer extends WorkerHost` with a `switch (job.name)`. */
@Injectable()
class AudioConsumer {
  readonly events: string[] = [];

  @TaskHandler('transcode', { queue: 'audio' })
  async transcode(payload: { file: string }, context: TaskContext) {
    let progress = 0;
    for (let i = 0; i < 10; i++) {
      progress += 10;
      await context.progress(progress); // was job.updateProgress(progress)
    }
    await context.log(`transcoded ${payload.file}`); // was job.log(…)
    return { file: payload.file, format: 'ogg' };
  }

  /** Was `@OnWorkerEvent('active') onActive(job)`. */
  @OnTaskEvent('active', { queue: 'audio' })
  onActive(event: TaskEvent) {
    this.events.push(`active ${event.id} ${event.name}`);
  }

  @OnTaskEvent('completed', { queue: 'audio' })
  onCompleted(event: TaskEvent) {
    this.events.push(`completed ${event.id} ${JSON.stringify(event.result)}`);
  }
}

/** A dashboard that still reads the raw BullMQ queue (bull-board does the same): `@InjectQueue` keeps working. */
@Injectable()
class Dashboard {
  constructor(@InjectQueue('audio') readonly queue: Queue | null) {}
}

@Module({
  imports: [TaskQueueModule.registerQueue({ name: 'audio' })],
  controllers: [AudioController],
  providers: [AudioConsumer, Dashboard],
})
class AudioModule {}

describe.each([
  ['memory', (): TaskQueueModuleOptions => ({ driver: 'memory' })],
  ['bullmq', (): TaskQueueModuleOptions => ({ driver: 'bullmq', connection: { url: redisUrl() }, prefix: uniquePrefix('sample26') })],
])('sample/26-queues on @nest-scale/task-queue (%s driver, issue 15)', (driver, options) => {
  let app: INestApplication | undefined;

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  it('POST /audio/transcode enqueues, the handler reports progress, the listener hears active and completed', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options() }), AudioModule],
    }).compile();
    app = moduleRef.createNestApplication({ logger: false });
    await app.listen(0, '127.0.0.1');
    const response = await fetch(`${await app.getUrl()}/audio/transcode`, { method: 'POST' });
    expect(response.status).toBe(201);
    const { id } = (await response.json()) as { id: string };

    const audio = app.get<TaskQueue>(getTaskQueueToken('audio'), { strict: false });
    await audio.waitUntilIdle({ timeoutMs: 10_000 });
    await vi.waitFor(() => expect(app!.get(AudioConsumer).events).toHaveLength(2), { timeout: 5_000 });
    expect(app.get(AudioConsumer).events).toEqual([
      `active ${id} transcode`,
      `completed ${id} {"file":"audio.mp3","format":"ogg"}`,
    ]);
    expect(await audio.getTask(id)).toMatchObject({
      state: 'completed',
      progress: 100,
      logs: ['transcoded audio.mp3'],
      result: { file: 'audio.mp3', format: 'ogg' },
    });
    // The default queue is untouched: the task belongs to "audio".
    await expect(app.get(TaskQueue).enqueue('transcode', {})).rejects.toThrow(/runs on the queue "audio"/);

    // What bull-board shows (BullMQ): the job's own progress and log; the memory driver has no BullMQ queue.
    const bull = app.get(Dashboard).queue;
    expect(bull === null ? 'memory' : bull.name).toBe(driver === 'bullmq' ? 'audio' : 'memory');
    const job = bull === null ? undefined : await bull.getJob(id);
    const logs = bull === null ? undefined : (await bull.getJobLogs(id)).logs;
    expect([job?.progress, logs]).toEqual(driver === 'bullmq' ? [100, ['transcoded audio.mp3']] : [undefined, undefined]);
  });
});
