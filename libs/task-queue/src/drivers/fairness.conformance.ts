import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { type ConformanceOptions, until } from './driver.conformance.js';

@Injectable()
class TenantWork {
  /** The group of each task, in the order the tasks ran. */
  readonly order: string[] = [];

  @TaskHandler('tenant-work')
  async run(payload: { tenant: string }) {
    this.order.push(payload.tenant);
    // Some I/O: without it the memory driver finishes each enqueued batch before the next enqueue returns.
    await new Promise((resolve) => setImmediate(resolve));
  }
}

const items = (tenant: string, n: number) =>
  Array.from({ length: n }, () => ({ name: 'tenant-work', payload: { tenant }, options: { group: tenant } }));

/** Issue 15 item 5, for every driver: groups are served round-robin, so a late small group is not starved. */
export function describeFairnessConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`group fairness: ${label}`, () => {
    let moduleRef: TestingModule | undefined;

    afterEach(async () => {
      await moduleRef?.close();
      moduleRef = undefined;
    });

    it('10,000 tasks of group A then 10 of group B: B finishes long before A', async () => {
      moduleRef = await Test.createTestingModule({
        imports: [
          TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...makeOptions(), workers: true, concurrency: 4 }),
        ],
        providers: [TenantWork],
      }).compile();
      await moduleRef.init();
      const queue = moduleRef.get(TaskQueue);
      const work = moduleRef.get(TenantWork);
      for (let i = 0; i < 10; i++) await queue.enqueueMany(items('A', 1_000));
      await queue.enqueueMany(items('B', 10));
      // What ran while A was being enqueued depends on the machine's speed, not on fairness: count from here.
      const ranBeforeB = work.order.length;
      await until(() => work.order.filter((t) => t === 'B').length === 10, 60_000);
      const lastB = work.order.lastIndexOf('B');
      console.info(
        `${label}: the 10th task of B ran as task #${lastB + 1} of ${work.order.length} so far (${ranBeforeB} before B was enqueued)`,
      );
      // Round-robin puts B's k-th task next to A's k-th among those still waiting: B is done within a few dozen
      // tasks of its enqueue, against 10,000 - ranBeforeB in first-in-first-out order. 200 leaves room for the
      // tasks already taken by workers (concurrency 4, BullMQ's fetch ahead) when B arrived.
      expect(lastB - ranBeforeB).toBeLessThan(200);
      await expect(queue.enqueue('tenant-work', { tenant: 'C' }, { group: 'C', priority: 1 })).rejects.toThrow(
        /`enqueue\("tenant-work"\)\.priority` must be left out with group/,
      );
      await expect(queue.enqueue('tenant-work', {}, { group: '' })).rejects.toThrow(
        /\.group` must be a non-empty string/,
      );
    }, 90_000);
  });
}
