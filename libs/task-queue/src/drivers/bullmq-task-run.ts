import { Job } from 'bullmq';
import { MAX_TASK_LOG_LINES } from '../task-queue.constants.js';
import { TaskRun } from '../task-runner.js';
import type { BullMqTaskQueueDriver } from './bullmq.driver.js';

/**
 * @internal One attempt of one BullMQ job. It settles the promise BullMQ awaits directly: the success path costs the
 * handler's own promise plus this one, and nothing else per job.
 */
export class BullRun extends TaskRun {
  constructor(
    private readonly driver: BullMqTaskQueueDriver,
    private readonly job: Job,
    private readonly resolve: (value: unknown) => void,
  ) {
    super(job.id as string, job.name, job.attemptsMade + 1, job.data);
  }

  settle(error: unknown, result: unknown, failed: boolean): void {
    // BullMQ sets the job's lock token before it calls the processor.
    this.resolve(failed ? this.driver.failed(this.job, this.job.token, error) : result);
  }

  /** BullMQ's own trace field (a JSON carrier, as bullmq-otel writes it), whatever wrote the job. */
  override traceCarrier(): unknown {
    return (this.job.opts.telemetry as { metadata?: unknown } | undefined)?.metadata;
  }

  protected async reportProgress(value: number | object): Promise<void> {
    await this.job.updateProgress(value);
    this.driver.events.emit('progress', this.id, this.name, this.attempt, value);
  }

  protected async appendLog(line: string): Promise<void> {
    // The job's own log() trims to its opts.keepLogs, which no job carries (it would grow every job hash).
    await Job.addJobLog(this.driver.queue, this.id, line, MAX_TASK_LOG_LINES);
  }
}
