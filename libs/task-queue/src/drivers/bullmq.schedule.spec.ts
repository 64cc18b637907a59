import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { NodeProcess, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { DEFAULT_QUEUE_NAME } from '../task-queue.constants.js';
import { sleep, until } from './driver.conformance.js';

const FIXTURE = 'libs/task-queue/src/drivers/schedule-replica.fixture.ts';

describe('bullmq driver: @ScheduledTask on three replicas in their own processes (issue 15 item 3)', () => {
  const prefix = uniquePrefix('schedule');
  let replicas: NodeProcess[] = [];
  let redis: Redis | undefined;
  let bull: Queue | undefined;

  afterAll(async () => {
    for (const replica of replicas) await replica.stop(10_000);
    await bull?.close();
    await redis?.quit();
  });

  it('runs each occurrence once across the replicas, keeps one schedule, and removes it when the code drops it', async () => {
    replicas = ['a', 'b', 'c'].map((label) =>
      NodeProcess.start(`replica-${label}`, FIXTURE, {
        REDIS_URL: redisUrl(),
        PREFIX: prefix,
        LABEL: label,
        EVERY_MS: '400',
      }),
    );
    for (const replica of replicas) await replica.waitFor(/READY/, 30_000);
    // A raw BullMQ queue to look: an app without the schedule would (rightly) remove it.
    bull = new Queue(DEFAULT_QUEUE_NAME, { connection: { url: redisUrl() }, prefix });

    redis = new Redis(redisUrl());
    const runs = async () => {
      const keys = await (redis as Redis).keys(`${prefix}:runs:*`);
      return Promise.all(keys.map(async (key) => [key, Number(await (redis as Redis).get(key))] as const));
    };
    await until(async () => (await runs()).length >= 6, 30_000);
    const counted = await runs();
    const ranOn = replicas.filter((r) => /RUN /.test(r.log)).map((r) => r.label);
    console.info(
      `3 replicas, every 400 ms: ${counted.length} occurrences, runs per occurrence ` +
        `${[...new Set(counted.map(([, n]) => n))].join('/')}, ran on ${ranOn.join(', ')}`,
    );
    expect(counted.every(([, n]) => n === 1)).toBe(true);
    expect(await (bull as Queue).getJobSchedulersCount()).toBe(1);
    const [scheduler] = await (bull as Queue).getJobSchedulers();
    expect(scheduler).toMatchObject({ key: 'nest-scale:tick', every: 400, name: 'tick' });

    // A new version without the schedule boots: the schedule is removed, the replicas stop getting runs.
    for (const replica of replicas) await replica.stop(10_000);
    replicas = [
      NodeProcess.start('replica-new', FIXTURE, {
        REDIS_URL: redisUrl(),
        PREFIX: prefix,
        LABEL: 'new',
        SCHEDULE: 'off',
      }),
    ];
    await replicas[0].waitFor(/READY/, 30_000);
    await until(async () => (await (bull as Queue).getJobSchedulersCount()) === 0, 10_000);
    const before = (await runs()).length;
    await sleep(1_200);
    // At most the one occurrence already queued before the removal may still run.
    expect((await runs()).length - before).toBeLessThanOrEqual(1);
  }, 90_000);
});
