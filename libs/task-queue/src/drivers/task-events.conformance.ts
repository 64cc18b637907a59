import { Injectable, Logger } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { OnTaskEvent } from '../decorators/on-task-event.decorator.js';
import { InvalidTaskQueueArgumentError } from '../errors/invalid-task-queue-argument.error.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import type { TaskEvent } from '../interfaces/task-event.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { getTaskQueueToken } from '../task-queue.tokens.js';
import { TASK_EVENT_NAMES } from '../task-events.js';
import { type ConformanceOptions, ConformanceHandlers, Probe, sleep, until } from './driver.conformance.js';

/** An `@OnTaskEvent` listener, as an app would write one; one method throws to prove it cannot hurt the queue. */
@Injectable()
class TaskEventRecorder {
  readonly completed: TaskEvent[] = [];
  readonly dead: TaskEvent[] = [];

  @OnTaskEvent('completed')
  onCompleted(event: TaskEvent) {
    this.completed.push(event);
  }

  @OnTaskEvent('dead')
  async onDead(event: TaskEvent) {
    this.dead.push(event);
  }

  @OnTaskEvent('active')
  explode() {
    throw new Error('listener bug');
  }
}

interface EventsApp {
  moduleRef: TestingModule;
  queue: TaskQueue;
  probe: Probe;
  recorder: TaskEventRecorder;
  /** Every event of every kind, through TaskQueue.on. */
  seen: TaskEvent[];
  close(): Promise<void>;
}

async function bootEventsApp(options: ConformanceOptions): Promise<EventsApp> {
  const probe = new Probe();
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options })],
    providers: [ConformanceHandlers, TaskEventRecorder, { provide: Probe, useValue: probe }],
  }).compile();
  await moduleRef.init();
  const queue = moduleRef.get<TaskQueue>(getTaskQueueToken());
  const seen: TaskEvent[] = [];
  for (const event of TASK_EVENT_NAMES) queue.on(event, (e) => void seen.push(e));
  return { moduleRef, queue, probe, recorder: moduleRef.get(TaskEventRecorder), seen, close: () => moduleRef.close() };
}

const trail = (seen: TaskEvent[], id: string) =>
  seen.filter((e) => e.id === id).map((e) => `${e.event}${e.attempt === undefined ? '' : `#${e.attempt}`}`);

/** Issue 15 item 2, for every driver: lifecycle events, progress and log lines, and listeners that fail. */
export function describeTaskEventsConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`task events and progress: ${label}`, () => {
    let app: EventsApp | undefined;
    const boot = async () => (app = await bootEventsApp(makeOptions()));

    beforeEach(() => {
      vi.spyOn(Logger.prototype, 'error').mockImplementation(() => {});
    });

    afterEach(async () => {
      await app?.close();
      app = undefined;
      vi.restoreAllMocks();
    });

    it('emits enqueued, active, failed, retrying, active, completed for a task that fails once', async () => {
      const { queue, probe, seen, recorder } = await boot();
      probe.behaviours.set('flaky', (_, context) => {
        if (context.attempt === 1) throw new Error('first try fails');
        return 'done';
      });
      const ref = await queue.enqueue('flaky', { n: 1 });
      await until(() => seen.some((e) => e.id === ref.id && e.event === 'completed'));
      // `enqueued` fires on the producer when Redis answered; a worker on another connection may start it first.
      expect(trail(seen, ref.id)).toContain('enqueued');
      expect(trail(seen, ref.id).filter((e) => e !== 'enqueued')).toEqual([
        'active#1',
        'failed#1',
        'retrying#1',
        'active#2',
        'completed#2',
      ]);
      const retrying = seen.find((e) => e.event === 'retrying');
      expect(retrying).toMatchObject({ queue: queue.name, name: 'flaky', error: { message: 'first try fails' } });
      expect(retrying?.retryInMs).toBe(60);
      expect(seen.find((e) => e.event === 'completed')).toMatchObject({ result: 'done', name: 'flaky' });
      // @OnTaskEvent methods were discovered; the one that throws on every `active` broke nothing.
      expect(recorder.completed.map((e) => e.id)).toEqual([ref.id]);
      expect(Logger.prototype.error).toHaveBeenCalledWith(
        expect.stringMatching(/listener of the queue .* failed: listener bug/),
      );
    });

    it('emits failed then dead for a non-retryable failure, and the state is stored when the event fires', async () => {
      const { queue, probe, seen, recorder } = await boot();
      probe.behaviours.set('echo', () => {
        throw new NonRetryableError('bad input');
      });
      const states: (string | undefined)[] = [];
      queue.on('dead', async (e) => void states.push((await queue.getTask(e.id))?.state));
      const ref = await queue.enqueue('echo', 'x');
      await until(() => states.length === 1 && recorder.dead.length === 1);
      expect(trail(seen, ref.id).filter((e) => e !== 'enqueued')).toEqual(['active#1', 'failed#1', 'dead#1']);
      expect(trail(seen, ref.id)).toContain('enqueued');
      expect(states).toEqual(['failed']);
      expect(recorder.dead[0]).toMatchObject({
        id: ref.id,
        error: { name: 'NonRetryableError', message: 'bad input' },
      });
    });

    it('keeps progress and log lines on the task (getTask) and emits progress events', async () => {
      const { queue, probe, seen } = await boot();
      const rejected: unknown[] = [];
      probe.behaviours.set('echo', async (_, context) => {
        await context.progress(10);
        await context.log('step one');
        const report = { done: 1, total: 2 };
        await context.progress(report);
        report.done = 99; // a later change of the object is not what was reported
        await context.log('step two');
        for (const bad of [Number.NaN, 'half', null, { n: 1n }]) {
          await context.progress(bad as never).catch((error: unknown) => rejected.push(error));
        }
        await context.log(5 as never).catch((error: unknown) => rejected.push(error));
        return 'ok';
      });
      const ref = await queue.enqueue('echo', {});
      await until(async () => (await queue.getTask(ref.id))?.state === 'completed');
      const task = await queue.getTask(ref.id);
      expect(task?.progress).toEqual({ done: 1, total: 2 });
      expect(task?.logs).toEqual(['step one', 'step two']);
      expect(seen.filter((e) => e.event === 'progress').map((e) => e.progress)).toEqual([10, { done: 1, total: 2 }]);
      expect(rejected).toHaveLength(5);
      for (const error of rejected) expect(error).toBeInstanceOf(InvalidTaskQueueArgumentError);
      expect(String((rejected[0] as Error).message)).toMatch(
        /^`context\.progress\(value\)` must be a finite number or a JSON object; got NaN\./,
      );
      expect(String((rejected[4] as Error).message)).toMatch(/^`context\.log\(line\)` must be a string; got 5\./);
    });

    it('never lets a throwing or rejecting listener break enqueue or processing; removed listeners stop', async () => {
      const { queue, probe } = await boot();
      let calls = 0;
      const remove = queue.on('completed', () => void calls++);
      queue.on('enqueued', () => {
        throw new Error('sync bug');
      });
      queue.on('completed', () => Promise.reject(new Error('async bug')));
      await queue.enqueueMany([1, 2, 3].map((n) => ({ name: 'echo', payload: n })));
      await queue.enqueue('echo', 4);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      await until(() => calls === 4);
      expect(probe.calls).toHaveLength(4);
      remove();
      await queue.enqueue('echo', 5);
      await queue.waitUntilIdle({ timeoutMs: 10_000 });
      await sleep(50);
      expect(calls).toBe(4);
      expect(() => queue.on('finished' as never, () => {})).toThrow(
        /`on\(event\)` must be one of "enqueued", "active", .*"stalled"; got "finished"/,
      );
    });
  });
}
