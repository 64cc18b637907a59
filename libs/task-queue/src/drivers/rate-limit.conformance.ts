import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { type ConformanceOptions, sleep, until } from './driver.conformance.js';

const PER_MS = 2_000;

@Injectable()
class Limited {
  readonly calls: { id: string; attempt: number }[] = [];

  @TaskHandler('limited-rate', { rateLimit: { max: 3, perMs: PER_MS } })
  run(_: unknown, context: TaskContext) {
    this.calls.push({ id: context.id, attempt: context.attempt });
  }
}

/** Issue 15 item 5, for every driver: a handler's rateLimit holds back runs over the limit until the next window. */
export function describeRateLimitConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`rate limits: ${label}`, () => {
    const apps: TestingModule[] = [];

    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close();
    });

    const boot = async (options: ConformanceOptions) => {
      const moduleRef = await Test.createTestingModule({
        imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options })],
        providers: [Limited],
      }).compile();
      await moduleRef.init();
      apps.push(moduleRef);
      return moduleRef;
    };

    it('starts at most max runs per window (shared by the workers on BullMQ); the others wait without using an attempt', async () => {
      const options = makeOptions();
      // Two instances on the same queue with BullMQ: the limit is one budget for both.
      const first = await boot(options);
      const second = options.driver === 'bullmq' ? await boot(options) : undefined;
      const queue = first.get(TaskQueue);
      const calls = () => [first, second].flatMap((app) => app?.get(Limited).calls ?? []);
      // Start early in a window (Redis and this process share the machine's clock), so the count is not split.
      while (Date.now() % PER_MS > 200) await sleep(20);
      await queue.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ name: 'limited-rate', payload: i })));
      await until(() => calls().length === 3, 1_500);
      await until(async () => (await queue.stats()).delayed === 2, 1_500);
      await sleep(100);
      expect(calls()).toHaveLength(3);
      await until(() => calls().length === 5, 10_000);
      expect(calls().every((c) => c.attempt === 1)).toBe(true);
      expect(new Set(calls().map((c) => c.id)).size).toBe(5);
    }, 30_000);
  });
}
