import { Injectable } from '@nestjs/common';
import { TaskQueue } from '../task-queue.service.js';

/** @publicApi */
export interface TaskQueueHealthOptions {
  /** Above this many waiting tasks the queue reports `degraded` (default: no threshold). */
  maxWaiting?: number;
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
 * A health indicator for `@nestjs/terminus`: reads the queue's counts within `timeoutMs`; `degraded` past
 * `maxWaiting`; `whenUnreachable` when the backend does not answer in time. @publicApi
 */
@Injectable()
export class TaskQueueHealthIndicator {
  constructor(private readonly queue: TaskQueue) {}

  async isHealthy(key = 'queue', options: TaskQueueHealthOptions = {}): Promise<TaskQueueHealthIndicatorResult> {
    const { maxWaiting, timeoutMs = 1_000, whenUnreachable = 'down' } = options;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const { driver, waiting, active, delayed, failed } = await Promise.race([this.queue.stats(), timeout]);
      const status = maxWaiting !== undefined && waiting > maxWaiting ? 'degraded' : 'up';
      return { [key]: { status, driver, waiting, active, delayed, dead: failed } };
    } catch (error) {
      return { [key]: { status: whenUnreachable, message: `queue unreachable: ${(error as Error).message}` } };
    } finally {
      clearTimeout(timer);
    }
  }
}
