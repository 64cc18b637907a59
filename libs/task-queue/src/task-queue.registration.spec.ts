import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { BullModule } from '@nestjs/bullmq';
import { Test } from '@nestjs/testing';
import { InjectTaskQueue } from './decorators/inject-task-queue.decorator.js';
import { OnTaskEvent } from './decorators/on-task-event.decorator.js';
import { ScheduledTask } from './decorators/scheduled-task.decorator.js';
import type { TaskEvent } from './interfaces/task-event.interface.js';
import { TaskHandler } from './decorators/task-handler.decorator.js';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import type { RegisterTaskQueueOptions } from './interfaces/task-queue-options.interface.js';
import { TaskQueueModule } from './task-queue.module.js';
import { TaskQueue } from './task-queue.service.js';

@Injectable()
class BillingHandlers {
  @TaskHandler('charge', { queue: 'billing' })
  charge() {}
}

@Injectable()
class BillingProducer {
  constructor(@InjectTaskQueue('billing') readonly queue: TaskQueue) {}
}

@Module({})
class FeatureA {}

@Module({})
class FeatureB {}

const feature = (
  module: typeof FeatureA,
  queue: RegisterTaskQueueOptions,
  providers: unknown[] = [],
): DynamicModule => ({
  module,
  imports: [TaskQueueModule.registerQueue(queue)],
  providers: providers as never[],
  exports: providers as never[],
});

async function boot(imports: DynamicModule[], providers: unknown[] = []) {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false }), ...imports],
    providers: providers as never[],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('TaskQueueModule.registerQueue (issue 15 item 1)', () => {
  it('fails the boot when a handler is bound to a queue no module registers, naming both', async () => {
    const booting = boot([], [BillingHandlers]);
    await expect(booting).rejects.toBeInstanceOf(InvalidTaskQueueOptionsError);
    await expect(boot([], [BillingHandlers])).rejects.toThrow(
      /@TaskHandler\("charge"\) on BillingHandlers\.charge runs on the queue "billing", which no module registers.*registerQueue\(\{ name: "billing" \}\)/,
    );
  });

  it('shares one queue when the same registration is imported by two modules', async () => {
    const moduleRef = await boot([
      feature(FeatureA, { name: 'billing' }, [BillingHandlers, BillingProducer]),
      feature(FeatureB, { name: 'billing' }),
    ]);
    const queue = moduleRef.get(BillingProducer, { strict: false }).queue;
    expect(queue.name).toBe('billing');
    expect(queue.taskNames()).toEqual(['charge']);
    await moduleRef.close();
  });

  it('fails the boot when one name is registered twice with different options, or is the forRoot queue', async () => {
    await expect(
      boot([feature(FeatureA, { name: 'billing' }), feature(FeatureB, { name: 'billing', concurrency: 2 })]),
    ).rejects.toThrow(/The task queue "billing" is registered twice/);
    await expect(boot([feature(FeatureA, { name: 'nest-scale-tasks' })])).rejects.toThrow(
      /The task queue "nest-scale-tasks" is registered twice/,
    );
  });

  it.each([
    [{ name: 'a:b' }, /`registerQueue\(\{ name \}\)` must be a non-empty string without ":"; got "a:b"/],
    [{ name: '' }, /`registerQueue\(\{ name \}\)` must be a non-empty string/],
    [
      { name: 'x', driver: 'bullmq' },
      /`registerQueue\("x"\)\.driver` must be left out.*Set it in TaskQueueModule\.forRoot/,
    ],
    [{ name: 'x', connection: { url: 'redis://h:1' } }, /`registerQueue\("x"\)\.connection` must be left out/],
    [{ name: 'x', concurrency: 0 }, /`concurrency` must be an integer ≥ 1; got 0/],
  ])('rejects registerQueue(%j) at boot, naming the option', async (queue, message) => {
    await expect(boot([feature(FeatureA, queue as RegisterTaskQueueOptions)])).rejects.toThrow(message);
  });

  it('rejects a @TaskHandler queue option that is not a queue name', async () => {
    @Injectable()
    class Bad {
      @TaskHandler('x', { queue: 5 as never })
      x() {}
    }
    await expect(boot([], [Bad])).rejects.toThrow(/`@TaskHandler\("x"\) on Bad\.x: queue` must be a non-empty string/);
  });

  it('issue 15 item 2: binds an @OnTaskEvent method to its queue, and fails the boot for an unregistered one', async () => {
    @Injectable()
    class Listeners {
      readonly billing: TaskEvent[] = [];
      readonly root: TaskEvent[] = [];

      @OnTaskEvent('completed', { queue: 'billing' })
      onBilling(event: TaskEvent) {
        this.billing.push(event);
      }

      @OnTaskEvent('completed')
      onRoot(event: TaskEvent) {
        this.root.push(event);
      }

      @TaskHandler('ping')
      ping() {}
    }
    const moduleRef = await boot(
      [feature(FeatureA, { name: 'billing' }, [BillingHandlers, BillingProducer])],
      [Listeners],
    );
    const billing = moduleRef.get(BillingProducer, { strict: false }).queue;
    await billing.enqueue('charge');
    await moduleRef.get(TaskQueue).enqueue('ping');
    await billing.waitUntilIdle({ timeoutMs: 5_000 });
    await moduleRef.get(TaskQueue).waitUntilIdle({ timeoutMs: 5_000 });
    const listeners = moduleRef.get(Listeners);
    expect(listeners.billing.map((e) => [e.queue, e.name])).toEqual([['billing', 'charge']]);
    expect(listeners.root.map((e) => [e.queue, e.name])).toEqual([['nest-scale-tasks', 'ping']]);
    await moduleRef.close();

    @Injectable()
    class Stray {
      @OnTaskEvent('dead', { queue: 'nowhere' })
      onDead() {}
    }
    await expect(boot([], [Stray])).rejects.toThrow(
      /@OnTaskEvent\("dead"\) on Stray\.onDead runs on the queue "nowhere"/,
    );
    @Injectable()
    class Typo {
      @OnTaskEvent('done' as never)
      onDone() {}
    }
    await expect(boot([], [Typo])).rejects.toThrow(/`@OnTaskEvent on Typo\.onDone: event` must be one of "enqueued"/);
  });

  it.each([
    [{ everyMs: 1_000, cron: '* * * * *' }, /cron \/ everyMs` must be exactly one of the two/],
    [{}, /cron \/ everyMs` must be exactly one of the two/],
    [{ cron: 'every day' }, /: cron` must be a valid cron pattern/],
    [{ cron: '0 3 * * *', tz: 'Mars/Olympus' }, /: tz` must be an IANA time zone/],
    [{ everyMs: 1_000, tz: 'UTC' }, /: tz` must be left out with everyMs/],
    [{ everyMs: 2 ** 31 }, /: everyMs` must be an integer from 1 to 2147483647/],
    [{ everyMs: 1_000, payload: { at: Number.NaN } }, /payload of task "nightly" cannot be serialized/],
  ])('issue 15 item 3: rejects @ScheduledTask options %j at boot, naming the option', async (options, message) => {
    @Injectable()
    class Scheduled {
      @ScheduledTask('nightly', options as never)
      run() {}
    }
    await expect(boot([], [Scheduled])).rejects.toThrow(message);
  });

  it.each([
    [{ everyMS: 1_000 }, 'everyMS', 'everyMs'],
    [{ cron: '0 3 * * *', tZ: 'Europe/Paris' }, 'tZ', 'tz'],
    [{ everyMs: 1_000, atempts: 2 }, 'atempts', 'attempts'],
  ])(
    'rejects a misspelled @ScheduledTask key in %j at boot, with the nearest known one',
    async (options, key, suggestion) => {
      @Injectable()
      class Scheduled {
        @ScheduledTask('nightly', options as never)
        run() {}
      }
      await expect(boot([], [Scheduled])).rejects.toThrow(InvalidTaskQueueOptionsError);
      await expect(boot([], [Scheduled])).rejects.toThrow(
        `\`@ScheduledTask("nightly") on Scheduled.run: options\` has no key "${key}": did you mean "${suggestion}"? ` +
          'Known keys: queue, concurrency, attempts, backoff, timeoutMs, batch, rateLimit, cron, tz, everyMs, payload.',
      );
    },
  );

  it('rejects a misspelled @OnTaskEvent option at boot, instead of listening on the default queue', async () => {
    @Injectable()
    class Listener {
      @OnTaskEvent('dead', { qeue: 'billing' } as never)
      onDead() {}
    }
    await expect(boot([], [Listener])).rejects.toThrow(InvalidTaskQueueOptionsError);
    await expect(boot([], [Listener])).rejects.toThrow(
      '`@OnTaskEvent on Listener.onDead: options` has no key "qeue": did you mean "queue"? Known keys: queue.',
    );
  });

  it('issue 15 item 3: the memory driver runs a schedule on the fake clock, one run per occurrence, in its zone', async () => {
    vi.useFakeTimers({ now: Date.UTC(2026, 0, 1, 0, 0, 0) });
    try {
      const runs: number[] = [];
      @Injectable()
      class Scheduled {
        // 03:00 in Paris is 02:00 UTC in winter.
        @ScheduledTask('nightly', { cron: '0 3 * * *', tz: 'Europe/Paris' })
        nightly() {
          runs.push(Date.now());
        }
      }
      const moduleRef = await boot([], [Scheduled]);
      await vi.advanceTimersByTimeAsync(3 * 24 * 60 * 60 * 1_000);
      expect(runs.map((t) => new Date(t).toISOString())).toEqual([
        '2026-01-01T02:00:00.000Z',
        '2026-01-02T02:00:00.000Z',
        '2026-01-03T02:00:00.000Z',
      ]);
      await moduleRef.close();
      await vi.advanceTimersByTimeAsync(2 * 24 * 60 * 60 * 1_000);
      expect(runs).toHaveLength(3);
    } finally {
      vi.useRealTimers();
    }
  });

  it.each([
    [{ maxSize: 20, maxWaitMs: 10 }, /batch\.maxSize` must be at most the queue's concurrency \(10\); got 20/],
    [{ maxSize: 0, maxWaitMs: 10 }, /batch\.maxSize` must be an integer ≥ 1; got 0/],
    [{ maxSize: 5 }, /batch\.maxWaitMs` must be an integer from 0 to 2147483647 \(milliseconds\); got undefined/],
    ['5', /batch` must be an object \{ maxSize, maxWaitMs \}/],
  ])('issue 15 item 4: rejects @TaskHandler batch %j at boot, naming the option', async (batch, message) => {
    @Injectable()
    class Bulk {
      @TaskHandler('bulk', { batch: batch as never })
      run() {}
    }
    await expect(boot([], [Bulk])).rejects.toThrow(message);
  });

  it.each([
    [{ max: 0, perMs: 1_000 }, /rateLimit\.max` must be an integer ≥ 1; got 0/],
    [{ max: 5, perMs: 2 ** 31 }, /rateLimit\.perMs` must be an integer from 1 to 2147483647 \(milliseconds\)/],
    [null, /rateLimit` must be an object \{ max, perMs \}; got null/],
  ])('issue 15 item 5: rejects @TaskHandler rateLimit %j at boot, naming the option', async (rateLimit, message) => {
    @Injectable()
    class Limited {
      @TaskHandler('limited', { rateLimit: rateLimit as never })
      run() {}
    }
    await expect(boot([], [Limited])).rejects.toThrow(message);
  });

  it('takes a BullModule.forRoot connection when forRoot has none (checked without Redis: the options it resolves)', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        BullModule.forRoot({ connection: { host: '127.0.0.1', port: 1, lazyConnect: true }, prefix: 'shared' }),
        TaskQueueModule.forRoot({ driver: 'bullmq', workers: false, warnWithoutShutdownHooks: false }),
      ],
    }).compile();
    const queue = moduleRef.get(TaskQueue);
    const opts = queue.bullQueue?.opts as { prefix?: string; connection?: { port?: number } };
    expect(opts.prefix).toBe('shared');
    expect(opts.connection?.port).toBe(1);
    await moduleRef.close();
  });
});
