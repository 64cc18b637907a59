/** @publicApi Second argument of every `@TaskHandler` method. */
export interface TaskContext {
  /** The task id (the same id `enqueue` returned). */
  readonly id: string;
  /** The task name. */
  readonly name: string;
  /** 1 for the first run, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Aborted when the attempt times out or the application shuts down past its deadline. */
  readonly signal: AbortSignal;
  /**
   * Reports progress: a finite number (a percentage, say) or a JSON object. It is stored with the task (`getTask`
   * → `progress`; BullMQ: the job's progress, shown by bull-board) and emitted as a `progress` event. With BullMQ
   * it is a Redis write: await it, or it rejects unobserved when Redis is away.
   */
  progress(value: number | object): Promise<void>;
  /** Appends a line to the task's log (`getTask` → `logs`, the last 100 lines; BullMQ: the job's log). */
  log(line: string): Promise<void>;
}
