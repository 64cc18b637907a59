import type { ConnectionOptions, WorkerOptions } from 'bullmq';
import type { ResolvedTaskQueueOptions } from '../task-queue.options.js';

/** @internal The Worker's options, from the module configuration: its tuning, and the retention count it applies. */
export function workerOptions(options: ResolvedTaskQueueOptions, connection: ConnectionOptions): WorkerOptions {
  const tuning = options.bullmq;
  return {
    connection,
    ...(options.prefix !== undefined ? { prefix: options.prefix } : {}),
    concurrency: options.concurrency,
    // A fetch that failed on a dropped connection waits this long before the next (BullMQ default 15 s).
    runRetryDelay: tuning.reconnectMaxDelayMs,
    ...(tuning.lockDurationMs !== undefined ? { lockDuration: tuning.lockDurationMs } : {}),
    ...(tuning.stalledIntervalMs !== undefined ? { stalledInterval: tuning.stalledIntervalMs } : {}),
    ...(tuning.maxStalledCount !== undefined ? { maxStalledCount: tuning.maxStalledCount } : {}),
    // Retention's count is the worker's, not each job's: every finish goes through a worker (a job stalled
    // too often too), and BullMQ applies these to a job without its own. The job hash then carries no
    // retention, so each fetch reads and parses that much less. Its age is the sweep's.
    removeOnComplete: { count: options.retention.completed.count },
    removeOnFail: { count: options.retention.dead.count },
  };
}
