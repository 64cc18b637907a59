// @internal How the BullMQ driver adds tasks: each NewTask's job options, and the adds in as few round trips as it can.
import type { Queue } from 'bullmq';
import { FAIR_PRIORITY_SCRIPT } from '../fair-priority.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import type { IoRedisEval } from './bullmq-connection.js';
import type { NewTask } from './task-queue.driver.js';

export async function addTasks(queue: Queue, tasks: readonly NewTask[], dedupWindowMs: number): Promise<TaskRef[]> {
  const jobs = tasks.map((t) => ({ name: t.name, data: t.payload, opts: jobOptions(t, dedupWindowMs) }));
  if (tasks.some((t) => t.group !== undefined)) {
    // One more round trip, for grouped tasks only: their round-robin priorities, from Redis for all producers.
    const grouped = tasks.flatMap((t, i) => (t.group === undefined ? [] : [i]));
    const client = (await queue.backend.client) as unknown as IoRedisEval;
    const priorities = (await client.eval(
      FAIR_PRIORITY_SCRIPT,
      3,
      queue.toKey('prioritized'),
      queue.toKey('groups'),
      queue.toKey('groups:highest'),
      ...grouped.map((i) => tasks[i].group as string),
    )) as number[];
    grouped.forEach((i, k) => (jobs[i].opts = { ...jobs[i].opts, priority: priorities[k] }));
  }
  return add(queue, jobs, tasks);
}

/** Ids and names of the added jobs; a dedup hit answers with the original task's name, as the memory driver. */
async function add(queue: Queue, jobs: { name: string; data: unknown; opts: object }[], tasks: readonly NewTask[]) {
  const added =
    jobs.length === 1 ? [await queue.add(jobs[0].name, jobs[0].data, jobs[0].opts)] : await queue.addBulk(jobs);
  const refs: { id: string; name: string }[] = added.map((job) => ({ id: job.id as string, name: job.name }));
  if (!tasks.some((t) => t.dedupKey !== undefined)) return refs as TaskRef[];
  // BullMQ answers a dedup hit with the original's id but the new call's name: read the stored name.
  const deduped = refs.filter((_, i) => tasks[i].dedupKey !== undefined);
  const client = await queue.backend.client;
  const names = await Promise.all(deduped.map((ref) => client.hget(queue.toKey(ref.id), 'name')));
  deduped.forEach((ref, i) => (ref.name = names[i] ?? ref.name));
  return refs as TaskRef[];
}

export function jobOptions(
  t: NewTask,
  dedupWindowMs: number,
): {
  attempts: number;
  backoff?: { type: string; delay: number; jitter: number };
  delay?: number;
  priority?: number;
  deduplication?: { id: string; ttl: number };
  telemetry?: { metadata: string };
} {
  return {
    attempts: t.attempts,
    // A single attempt never backs off: leaving it out keeps the job hash (read by every BullMQ script) smaller.
    ...(t.attempts > 1
      ? { backoff: { type: t.backoff.type, delay: t.backoff.delayMs, jitter: t.backoff.jitter } }
      : {}),
    ...(t.delayMs > 0 ? { delay: t.delayMs } : {}),
    ...(t.priority > 0 ? { priority: t.priority } : {}),
    ...(t.dedupKey !== undefined ? { deduplication: { id: t.dedupKey, ttl: dedupWindowMs } } : {}),
    ...(t.trace !== undefined ? { telemetry: { metadata: JSON.stringify(t.trace) } } : {}),
  };
}
