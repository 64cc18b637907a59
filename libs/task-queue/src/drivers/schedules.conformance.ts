import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { ScheduledTask } from '../decorators/scheduled-task.decorator.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { type ConformanceOptions, Probe, until } from './driver.conformance.js';

@Injectable()
class Schedules {
  constructor(readonly probe: Probe) {}

  @ScheduledTask('every-300', { everyMs: 300, payload: { kind: 'interval' } })
  interval(payload: unknown, context: TaskContext) {
    return this.probe.run('every-300', payload, context);
  }

  @ScheduledTask('each-second', { cron: '* * * * * *', tz: 'Europe/Paris', attempts: 1 })
  cron(payload: unknown, context: TaskContext) {
    return this.probe.run('each-second', payload, context);
  }
}

/** Issue 15 item 3, for every driver: `@ScheduledTask` runs on its schedule, once per occurrence. */
export function describeSchedulesConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`scheduled tasks: ${label}`, () => {
    let moduleRef: TestingModule | undefined;

    afterEach(async () => {
      await moduleRef?.close();
      moduleRef = undefined;
    });

    it('runs an everyMs and a cron schedule once per occurrence, with the schedule payload', async () => {
      const probe = new Probe();
      moduleRef = await Test.createTestingModule({
        imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...makeOptions() })],
        providers: [Schedules, { provide: Probe, useValue: probe }],
      }).compile();
      await moduleRef.init();
      await until(() => probe.callsOf('every-300').length >= 3 && probe.callsOf('each-second').length >= 2, 15_000);
      const interval = probe.callsOf('every-300');
      expect(new Set(interval.map((c) => c.id)).size).toBe(interval.length);
      expect(interval.every((c) => c.attempt === 1)).toBe(true);
      expect(interval[0].payload).toEqual({ kind: 'interval' });
      const cron = probe.callsOf('each-second');
      expect(new Set(cron.map((c) => c.id)).size).toBe(cron.length);
      expect(moduleRef.get(TaskQueue).taskNames().toSorted()).toEqual(['each-second', 'every-300']);
      // An occurrence is a task like any other: getTask knows it.
      await until(async () => (await moduleRef!.get(TaskQueue).getTask(interval[0].id))?.state === 'completed');
    });
  });
}
