import type { MinimalJob, Queue } from 'bullmq';
import type { TaskInfo } from '../interfaces/task-info.interface.js';
import { readTask } from './bullmq-task-info.js';

/** Dead tasks retried per batch of concurrent Redis calls by `retryDead`. */
const RETRY_PAGE = 500;

/** @internal The dead set's paged reads and batched retries, apart from the driver's enqueue and worker paths. */
export class BullDeadTasks {
  constructor(private readonly queue: Queue) {}

  async list(offset: number, limit: number): Promise<TaskInfo[]> {
    if (limit <= 0) return [];
    const ids = await this.queue.getRanges(['failed'], offset, offset + limit - 1);
    const tasks = await Promise.all(ids.map((id) => readTask(this.queue, id, 'failed')));
    return tasks.filter((task) => task !== undefined);
  }

  /**
   * Retries each given dead task once. `'all'` snapshots the dead set first: a task that fails again during the
   * call lands back in it, and re-reading it would retry that task without end. The retry script needs only the
   * id, so a job whose hash cannot be parsed is retried (and fails again, readably) rather than throwing.
   */
  async retry(ids: readonly string[] | 'all'): Promise<number> {
    const chosen = ids === 'all' ? await this.queue.getRanges(['failed'], 0, -1) : [...new Set(ids)];
    const options = { resetAttemptsMade: true, resetAttemptsStarted: true };
    let moved = 0;
    for (let i = 0; i < chosen.length; i += RETRY_PAGE) {
      const page = chosen.slice(i, i + RETRY_PAGE);
      const results = await Promise.allSettled(
        page.map((id) => this.queue.backend.retryFinishedJob({ id, opts: {} } as MinimalJob, 'failed', options)),
      );
      for (const result of results) {
        if (result.status === 'fulfilled') moved++;
        // The script's own answers (no such job, not dead) carry a numeric code and mean "skip"; anything else is
        // Redis failing, which the caller must hear about.
        else if (typeof (result.reason as { code?: unknown }).code !== 'number') throw result.reason;
      }
    }
    return moved;
  }
}
