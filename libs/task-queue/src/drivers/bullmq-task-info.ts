import { Job, type Queue } from 'bullmq';
import type { TaskInfo, TaskState } from '../interfaces/task-info.interface.js';
import { UNREADABLE_JOB } from '../task-queue.messages.js';
import type { IoRedisEval } from './bullmq-connection.js';
import { repairUnreadableJob, UNREADABLE_FIELD, unreadableFields } from './bullmq-unreadable.js';

type HashClient = IoRedisEval & {
  hget(key: string, field: string): Promise<string | null>;
  hgetall(key: string): Promise<Record<string, string>>;
};

const STATES: Record<string, TaskState> = {
  waiting: 'waiting',
  prioritized: 'waiting',
  'waiting-children': 'waiting',
  delayed: 'delayed',
  active: 'active',
  completed: 'completed',
  failed: 'failed',
};

/** @internal The task with this id in any state, as `getTask` answers; undefined when BullMQ knows no such job. */
export async function findTask(queue: Queue, id: string): Promise<TaskInfo | undefined> {
  const state = STATES[await queue.getJobState(id)];
  if (state === undefined) return undefined;
  return readTask(queue, id, state);
}

/**
 * @internal A BullMQ job as a TaskInfo; one whose hash is not valid JSON is reported as such, never thrown, and
 * repaired for other readers. A job marked unreadable earlier keeps `unreadable` set.
 */
export async function readTask(queue: Queue, id: string, state: TaskState): Promise<TaskInfo | undefined> {
  const client = (await queue.backend.client) as unknown as HashClient;
  // Sent together with the job's read, so the marker costs no extra round trip.
  const marker = client.hget(queue.toKey(id), UNREADABLE_FIELD);
  let job: Job | undefined;
  try {
    job = await Job.fromId(queue, id);
  } catch (error) {
    await marker;
    if (!(error instanceof SyntaxError)) throw error;
    return readUnreadableJob(queue, client, id, state, error);
  }
  const unreadable = await marker;
  if (job === undefined) return undefined;
  const task = info(job, state);
  if (unreadable !== null) task.unreadable = unreadable;
  const { logs } = await queue.getJobLogs(id);
  if (logs.length > 0) task.logs = logs;
  return task;
}

function info(job: Job, state: TaskState): TaskInfo {
  const stack = job.stacktrace?.at(-1) ?? undefined;
  return {
    id: job.id as string,
    name: job.name,
    state,
    payload: job.data,
    attemptsMade: job.attemptsMade,
    maxAttempts: job.opts.attempts ?? 1,
    ...(state === 'completed' ? { result: job.returnvalue } : {}),
    ...(job.failedReason
      ? {
          error: {
            name: stack?.match(/^([\w$]+)(?::|\n|$)/)?.[1] ?? 'Error',
            message: job.failedReason,
            ...(stack ? { stack } : {}),
          },
        }
      : {}),
    createdAt: job.timestamp,
    ...(job.finishedOn !== undefined ? { finishedAt: job.finishedOn } : {}),
    ...(job.progress !== 0 && job.progress !== undefined ? { progress: job.progress as number | object } : {}),
  };
}

/** A dead or waiting job whose hash cannot be parsed, reported from its raw fields instead of throwing. */
async function readUnreadableJob(
  queue: Queue,
  client: HashClient,
  id: string,
  state: TaskState,
  error: SyntaxError,
): Promise<TaskInfo | undefined> {
  const raw = await client.hgetall(queue.toKey(id));
  if (Object.keys(raw).length === 0) return undefined;
  const reason = `its stored job is not valid JSON (${error.message})`;
  await repairUnreadableJob(client, queue.toKey(id), unreadableFields(raw), reason);
  return {
    id,
    name: raw.name ?? '',
    state,
    payload: raw.data,
    attemptsMade: Number.parseInt(raw.atm ?? raw.attemptsMade ?? '0', 10) || 0,
    maxAttempts: 1,
    error: { name: 'UnreadableTaskError', message: raw.failedReason || UNREADABLE_JOB(id, reason) },
    createdAt: Number.parseInt(raw.timestamp ?? '0', 10) || 0,
    ...(raw.finishedOn ? { finishedAt: Number.parseInt(raw.finishedOn, 10) } : {}),
    unreadable: reason,
  };
}
