import type { Queue } from 'bullmq';
import type { TaskEventName } from '../interfaces/task-event.interface.js';
import type { TaskEvents } from '../task-events.js';
import type { TaskQueueWorker } from './task-queue-worker.js';

/** The BullMQ worker event each task event comes from (`enqueued` and `progress` are emitted by this module). */
const WORKER_EVENT_OF: Partial<Record<TaskEventName, 'active' | 'completed' | 'failed' | 'stalled'>> = {
  active: 'active',
  completed: 'completed',
  failed: 'failed',
  retrying: 'failed',
  dead: 'failed',
  stalled: 'stalled',
};

/** @internal UnrecoverableErrors made from a NonRetryableError, whose `cause` is what the handler threw. */
export const converted = new WeakSet<Error>();

/**
 * BullMQ's worker events fire once Redis has the new state (a `completed` listener's getTask sees it
 * completed). After a failed attempt, a job with `finishedOn` set is dead; otherwise it was retried after
 * `job.delay`. An attempt handed back at shutdown is neither (BullMQ emits nothing for it).
 */
export function emitWorkerEvents(worker: TaskQueueWorker, events: TaskEvents, queue: Queue): void {
  // Each BullMQ listener is attached only once somebody listens to one of its events: with no listener, a job
  // costs no extra call (the dispatch path stays as it was).
  const attached = new Set<string>();
  events.whenListened((event) => {
    const source = WORKER_EVENT_OF[event];
    if (source === undefined || attached.has(source)) return;
    attached.add(source);
    attachWorkerEvent(worker, source, events, queue);
  });
}

function attachWorkerEvent(
  worker: TaskQueueWorker,
  source: 'active' | 'completed' | 'failed' | 'stalled',
  events: TaskEvents,
  queue: Queue,
): void {
  if (source === 'active') {
    worker.on('active', (job) => events.emit('active', job.id as string, job.name, job.attemptsMade + 1));
  } else if (source === 'completed') {
    worker.on('completed', (job, result) =>
      events.emit('completed', job.id as string, job.name, job.attemptsMade, result),
    );
  } else if (source === 'failed') {
    worker.on('failed', (job, error) => {
      if (job === undefined) return;
      const id = job.id as string;
      // Listeners hear what the handler threw, not the UnrecoverableError it became for BullMQ.
      if (converted.has(error)) error = error.cause as Error;
      events.emit('failed', id, job.name, job.attemptsMade, error);
      if (job.finishedOn !== undefined) events.emit('dead', id, job.name, job.attemptsMade, error);
      else events.emit('retrying', id, job.name, job.attemptsMade, error, job.delay);
    });
  } else {
    worker.on('stalled', (id) => {
      void queue.backend.client
        .then((client) => client.hget(queue.toKey(id), 'name'))
        .then(
          (name) => events.emit('stalled', id, name ?? '', undefined),
          () => events.emit('stalled', id, '', undefined),
        );
    });
  }
}
