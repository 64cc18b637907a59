import { Injectable } from '@nestjs/common';
import { TaskQueue } from '../task-queue.service.js';

/** @publicApi */
export interface TaskQueueHealthOptions {
  /** Above this many waiting tasks the queue reports `degraded` (default: no threshold). */
  maxWaiting?: number;
  /**
   * Past this age (ms) of the task that has waited longest the queue reports `degraded` (default: no threshold):
   * workers are missing, stuck or too few. See `TaskQueue.oldestWaitingAgeMs()` for what each driver looks at.
   */
  maxOldestWaitingMs?: number;
  /** How long the queue's counts may take to read (default 1,000 ms). */
  timeoutMs?: number;
  /**
   * What an unreachable queue backend is: `down` (default; right for an instance whose job is to run tasks) or
   * `degraded` (an instance that also serves requests that do not need the queue).
   */
  whenUnreachable?: 'down' | 'degraded';
}

/**
 * What a `@nestjs/terminus` health indicator returns, built here without importing terminus (an optional peer).
 * @publicApi
 */
export type TaskQueueHealthIndicatorResult = Record<
  string,
  { status: 'up' | 'degraded' | 'down' } & Record<string, unknown>
>;

/**
 * A health indicator for `@nestjs/terminus`: reads the queue's counts (and, with `maxOldestWaitingMs`, the oldest
 * waiting task's age) within `timeoutMs`; `degraded` past `maxWaiting` or `maxOldestWaitingMs`; `whenUnreachable` when the backend does not answer in time. @publicApi
 */
@Injectable()
export class TaskQueueHealthIndicator {
  constructor(private readonly queue: TaskQueue) {}

  async isHealthy(key = 'queue', options: TaskQueueHealthOptions = {}): Promise<TaskQueueHealthIndicatorResult> {
    const { maxWaiting, maxOldestWaitingMs, timeoutMs = 1_000, whenUnreachable = 'down' } = options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const [{ driver, waiting, active, delayed, failed }, oldestWaitingMs] = await Promise.race([
        Promise.all([
          this.queue.stats(),
          maxOldestWaitingMs === undefined ? undefined : this.queue.oldestWaitingAgeMs(),
        ]),
        timeout,
      ]);
      const backlog = maxWaiting !== undefined && waiting > maxWaiting;
      const stale =
        maxOldestWaitingMs !== undefined && oldestWaitingMs !== undefined && oldestWaitingMs > maxOldestWaitingMs;
      const status = backlog || stale ? 'degraded' : 'up';
      const details = { status, driver, waiting, active, delayed, dead: failed } as const;
      return {
        [key]: maxOldestWaitingMs === undefined ? details : { ...details, oldestWaitingMs: oldestWaitingMs ?? 0 },
      };
    } catch (error) {
      return { [key]: { status: whenUnreachable, message: `queue unreachable: ${(error as Error).message}` } };
    } finally {
      clearTimeout(timer);
    }
  }
}
