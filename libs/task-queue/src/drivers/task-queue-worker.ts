import { type Job, type JobJson, type Processor, Worker, type WorkerOptions } from 'bullmq';
import { UNREADABLE_JOB } from '../task-queue.messages.js';
import type { IoRedisEval } from './bullmq-connection.js';
import { repairUnreadableJob, UNREADABLE_FIELD, type UnreadableFields } from './bullmq-unreadable.js';

type ExecCommand = (client: unknown, command: string, args: unknown[]) => Promise<unknown>;

/** BullMQ handles the failed reply on its own path; the guard's copy of it needs no handler of its own. */
const ignoreRejection = () => {};

/** Distinct valid `opts` strings remembered, so the usual few need no parse per job. */
const KNOWN_OPTS_MAX = 256;

/** A fetched job found unreadable (or marked so): why, and the `opts` text the guard replaced. */
interface Unreadable {
  reason: string;
  opts?: string;
}

/**
 * @internal A BullMQ Worker that fails a job whose hash it cannot parse, instead of letting it cycle
 * active → stalled. BullMQ throws while decoding such a job (`data` in `createJob`, `opts` while reading the fetch
 * result), with the job already active and nobody to finish it; here the job is fetched with harmless
 * placeholders and marked with BullMQ's own `deferredFailure`, so BullMQ fails it at once, unrecoverably, with a
 * clear error, before any processor runs. Its hash is then repaired (see `repairUnreadableJob`) so that other
 * readers can list it, and marked, so that a retry from anywhere fails it again.
 */
export class TaskQueueWorker extends Worker {
  /** Ids found unreadable (or marked so) while fetching; read back in `createJob`. */
  private readonly unreadable = new Map<string, Unreadable>();
  private readonly knownOpts = new Set<string>();
  /** Allocated once: the hook below runs for every fetched job. */
  private readonly guard = (raw: unknown) => this.guardOpts(raw);

  constructor(name: string, processor: Processor, options: WorkerOptions) {
    super(name, processor, options);
    const backend = this.backend as unknown as { execCommand: ExecCommand };
    const exec = backend.execCommand.bind(backend);
    // Both scripts hand back the next job's raw hash, which BullMQ decodes as soon as its await resumes. The guard
    // is a reaction of that same promise, added before BullMQ awaits it, so it runs first and fixes the array in
    // place: BullMQ waits no extra microtask for it (a `.then(guard)` handed to BullMQ cost one per job).
    backend.execCommand = (client, command, args) => {
      const reply = exec(client, command, args);
      if (command === 'moveToActive' || command === 'moveToFinished') reply.then(this.guard, ignoreRejection);
      return reply;
    };
  }

  /**
   * Stops the timers a close should have stopped. Without Redis, `close()` may never finish, or finish while the
   * run loop restarts them; the lock renewal and stalled-check timers then keep the process alive for good.
   */
  stopTimers(): void {
    void this.lockManager.close();
    (this as unknown as { stalledCheckStopper?: () => void }).stalledCheckStopper?.();
  }

  protected override createJob(data: JobJson, jobId: string): Job {
    const found = this.unreadable.size === 0 ? undefined : this.unreadable.get(jobId);
    let reason = found?.reason;
    let badData: string | undefined;
    let job: Job;
    try {
      job = super.createJob(data, jobId);
    } catch (error) {
      if (!(error instanceof SyntaxError)) throw error;
      reason = `its data is not valid JSON (${error.message})`;
      badData = data.data;
      job = super.createJob({ ...data, data: 'null' }, jobId);
    }
    if (reason !== undefined) {
      this.unreadable.delete(jobId);
      job.deferredFailure = UNREADABLE_JOB(jobId, reason);
      if (badData !== undefined || found?.opts !== undefined) {
        void this.repair(jobId, { data: badData, opts: found?.opts }, reason);
      }
    }
    return job;
  }

  private async repair(jobId: string, fields: UnreadableFields, reason: string): Promise<void> {
    try {
      await repairUnreadableJob(
        (await this.backend.client) as unknown as IoRedisEval,
        this.toKey(jobId),
        fields,
        reason,
      );
    } catch {
      // The job still fails readably; only other readers keep tripping on it until a read repairs it.
    }
  }

  /**
   * raw = [flat hash fields, id, …] when a job was fetched; an invalid `opts` is replaced in that array, and a job
   * this module marked unreadable before is remembered as such (its hash is readable now, but it must not run).
   */
  private guardOpts(raw: unknown): void {
    if (!Array.isArray(raw) || !Array.isArray(raw[0])) return;
    const fields = raw[0] as unknown[];
    for (let i = 0; i < fields.length; i += 2) {
      const field = fields[i];
      if (field === UNREADABLE_FIELD) {
        const id = String(raw[1]);
        if (!this.unreadable.has(id)) this.unreadable.set(id, { reason: String(fields[i + 1]) });
        continue;
      }
      if (field !== 'opts') continue;
      const opts = fields[i + 1];
      if (typeof opts !== 'string' || this.knownOpts.has(opts)) continue;
      try {
        JSON.parse(opts);
        if (this.knownOpts.size < KNOWN_OPTS_MAX) this.knownOpts.add(opts);
      } catch (error) {
        fields[i + 1] = '{}';
        this.unreadable.set(String(raw[1]), {
          reason: `its opts are not valid JSON (${(error as Error).message})`,
          opts,
        });
      }
    }
  }
}
