import type { Queue } from 'bullmq';
import { SCHEDULE_ID_PREFIX } from '../task-queue.constants.js';
import { jobOptions } from './bullmq-add-jobs.js';
import type { ScheduledNewTask } from './task-queue.driver.js';

/**
 * @internal One BullMQ job scheduler per schedule, id `nest-scale:<task>`: an upsert with the same id is idempotent,
 * so N replicas make one schedule, and BullMQ adds one job per occurrence (its id carries the occurrence time, so
 * concurrent upserts cannot add it twice). Schedulers of this module that the code no longer declares are
 * removed; others on the queue are left alone.
 */
export async function syncSchedulers(
  queue: Queue,
  schedules: readonly ScheduledNewTask[],
  dedupWindowMs: number,
): Promise<void> {
  const wanted = new Set<string>();
  for (const { name, schedule, task } of schedules) {
    const id = SCHEDULE_ID_PREFIX + name;
    wanted.add(id);
    const { attempts, backoff } = jobOptions(task, dedupWindowMs);
    await queue.upsertJobScheduler(
      id,
      schedule.kind === 'cron' ? { pattern: schedule.cron, tz: schedule.tz } : { every: schedule.everyMs },
      { name, data: task.payload, opts: { attempts, ...(backoff ? { backoff } : {}) } },
    );
  }
  for (const existing of await queue.getJobSchedulers(0, -1)) {
    if (existing.key.startsWith(SCHEDULE_ID_PREFIX) && !wanted.has(existing.key)) {
      await queue.removeJobScheduler(existing.key);
    }
  }
}
