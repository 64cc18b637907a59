import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import type { BatchTask } from '../interfaces/task-handler-options.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import type { ConformanceOptions } from './driver.conformance.js';

@Injectable()
class BulkHandlers {
  /** Sizes of the batches the handler was called with, and (task id, attempt) per item. */
  readonly batches: { id: string; attempt: number; payload: number }[][] = [];

  @TaskHandler('bulk', {
    batch: { maxSize: 5, maxWaitMs: 50 },
    attempts: 3,
    backoff: { type: 'fixed', delayMs: 20, jitter: 0 },
  })
  bulk(tasks: BatchTask<number>[]) {
    this.batches.push(tasks.map((t) => ({ id: t.id, attempt: t.attempt, payload: t.payload })));
    // Odd payloads fail on their first attempt: only they are retried.
    return tasks.map((t) => (t.payload % 2 === 1 && t.attempt === 1 ? new Error(`odd ${t.payload}`) : t.payload * 10));
  }
}

/** Issue 15 item 4, for every driver: batches up to maxSize, and a partial failure retries only its items. */
export function describeBatchConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`batch handlers: ${label}`, () => {
    let moduleRef: TestingModule | undefined;

    afterEach(async () => {
      await moduleRef?.close();
      moduleRef = undefined;
    });

    it('calls the handler with batches of at most maxSize, and retries only the items that failed', async () => {
      moduleRef = await Test.createTestingModule({
        imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...makeOptions() })],
        providers: [BulkHandlers],
      }).compile();
      await moduleRef.init();
      const queue = moduleRef.get(TaskQueue);
      const handlers = moduleRef.get(BulkHandlers);
      const refs = await queue.enqueueMany(Array.from({ length: 12 }, (_, i) => ({ name: 'bulk', payload: i })));
      await queue.waitUntilIdle({ timeoutMs: 20_000 });

      expect(handlers.batches.every((b) => b.length >= 1 && b.length <= 5)).toBe(true);
      expect(Math.max(...handlers.batches.map((b) => b.length))).toBeGreaterThan(1);
      const runs = new Map<number, number[]>();
      for (const item of handlers.batches.flat())
        runs.set(item.payload, [...(runs.get(item.payload) ?? []), item.attempt]);
      for (let i = 0; i < 12; i++) expect(runs.get(i)).toEqual(i % 2 === 1 ? [1, 2] : [1]);
      for (const [i, ref] of refs.entries()) {
        expect(await queue.getTask(ref.id)).toMatchObject({
          state: 'completed',
          result: i * 10,
          attemptsMade: i % 2 === 1 ? 2 : 1,
        });
      }
    });
  });
}
