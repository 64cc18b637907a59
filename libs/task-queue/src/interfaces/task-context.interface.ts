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
}
