import { Queue } from 'bullmq';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { DEFAULT_QUEUE_NAME } from '../task-queue.constants.js';
import { type ConformanceOptions, describeTaskQueueConformance } from './driver.conformance.js';

const bullmqOptions = (): ConformanceOptions => ({
  driver: 'bullmq',
  connection: { url: redisUrl() },
  prefix: uniquePrefix('tq'),
});

async function inspect(options: ConformanceOptions, id: string) {
  const queue = new Queue(DEFAULT_QUEUE_NAME, { connection: { url: redisUrl() }, prefix: options.prefix });
  try {
    const job = await queue.getJob(id);
    return { state: (await job?.getState()) ?? 'missing', attemptsMade: job?.attemptsMade ?? -1 };
  } finally {
    await queue.close();
  }
}

describeTaskQueueConformance('bullmq driver', bullmqOptions, { abortedTaskState: inspect });
