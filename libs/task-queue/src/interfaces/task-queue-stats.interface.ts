/** @publicApi Handler run durations on this instance (the last 1,024 runs). */
export interface TaskDurationStats {
  count: number;
  meanMs: number;
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  maxMs: number;
}

/** @publicApi Snapshot returned by `TaskQueue.stats()`. */
export interface TaskQueueStats {
  driver: 'memory' | 'bullmq';
  /** Counts in the queue (with BullMQ: the whole queue, every instance). */
  waiting: number;
  active: number;
  delayed: number;
  /** Dead tasks kept for inspection and retry. */
  failed: number;
  /** Completed tasks still retained (see `keepCompleted`). */
  completed: number;
  /** Counters of this instance since boot. */
  processed: number;
  failedAttempts: number;
  durations: TaskDurationStats;
}
