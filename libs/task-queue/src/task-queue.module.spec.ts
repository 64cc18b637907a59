import { Controller, Injectable, Logger, Module, Scope } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { OnTaskEvent } from './decorators/on-task-event.decorator.js';
import { ScheduledTask } from './decorators/scheduled-task.decorator.js';
import { TaskHandler } from './decorators/task-handler.decorator.js';
import { until } from './drivers/driver.conformance.js';
import { DuplicateTaskHandlerError } from './errors/duplicate-task-handler.error.js';
import { InvalidEnqueueOptionsError } from './errors/invalid-enqueue-options.error.js';
import { InvalidTaskQueueArgumentError } from './errors/invalid-task-queue-argument.error.js';
import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import { UnknownTaskError } from './errors/unknown-task.error.js';
import type { BatchTask } from './interfaces/task-handler-options.interface.js';
import type { TaskContext } from './interfaces/task-context.interface.js';
import type { TaskEvent } from './interfaces/task-event.interface.js';
import type { TaskQueueModuleOptions } from './interfaces/task-queue-options.interface.js';
import { TaskQueueModule } from './task-queue.module.js';
import { TaskQueue } from './task-queue.service.js';
import { getTaskQueueToken } from './task-queue.tokens.js';

@Injectable()
class MailService {
  readonly sent: string[] = [];

  @TaskHandler('send-mail')
  async send(payload: { to: string }, context: TaskContext) {
    this.sent.push(`${payload.to}#${context.attempt}`);
    return this.sent.length;
  }
}

@Controller()
class ReportsController {
  readonly built: unknown[] = [];

  @TaskHandler('build-report', { concurrency: 1 })
  build(payload: unknown) {
    this.built.push(payload);
  }
}

@Module({ providers: [MailService], controllers: [ReportsController] })
class FeatureModule {}

async function boot(options: TaskQueueModuleOptions, extra: { providers?: unknown[] } = {}) {
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options }), FeatureModule],
    providers: (extra.providers ?? []) as never[],
  }).compile();
  await moduleRef.init();
  return moduleRef;
}

describe('TaskQueueModule', () => {
  afterEach(() => vi.restoreAllMocks());

  it('discovers @TaskHandler methods on providers and controllers of any module, with `this` bound', async () => {
    const moduleRef = await boot({});
    const queue = moduleRef.get(TaskQueue);
    expect(queue.taskNames().toSorted()).toEqual(['build-report', 'send-mail']);
    const ref = await queue.enqueue('send-mail', { to: 'ada@example.com' });
    await queue.enqueue('build-report', { month: 11 });
    await queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(moduleRef.get(MailService).sent).toEqual(['ada@example.com#1']);
    expect(moduleRef.get(ReportsController).built).toEqual([{ month: 11 }]);
    expect((await queue.getTask(ref.id))?.result).toBe(1);
    expect(await queue.getTask('no-such-id')).toBeUndefined();
    await moduleRef.close();
  });

  it('is global by default, so a feature module can inject TaskQueue', async () => {
    @Injectable()
    class Producer {
      constructor(readonly queue: TaskQueue) {}
    }
    @Module({ providers: [Producer], exports: [Producer] })
    class ProducerModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false }), FeatureModule, ProducerModule],
    }).compile();
    await moduleRef.init();
    expect(moduleRef.get(Producer).queue).toBe(moduleRef.get(TaskQueue));
    await moduleRef.close();
  });

  it('supports forRootAsync with injected configuration', async () => {
    const CONFIG = Symbol('config');
    @Module({ providers: [{ provide: CONFIG, useValue: { concurrency: 2 } }], exports: [CONFIG] })
    class ConfigModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskQueueModule.forRootAsync({
          imports: [ConfigModule],
          inject: [CONFIG],
          useFactory: (config: { concurrency: number }) => ({ ...config, warnWithoutShutdownHooks: false }),
        }),
        FeatureModule,
      ],
    }).compile();
    await moduleRef.init();
    const queue = moduleRef.get(TaskQueue);
    await queue.enqueue('send-mail', { to: 'x' });
    await queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(moduleRef.get(MailService).sent).toEqual(['x#1']);
    await moduleRef.close();
  });

  it('ignores connection with the memory driver, so one config serves both modes', async () => {
    const moduleRef = await boot({ driver: 'memory', connection: { url: undefined as unknown as string } });
    const queue = moduleRef.get(TaskQueue);
    await queue.enqueue('send-mail', { to: 'y' });
    await queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(moduleRef.get(MailService).sent).toEqual(['y#1']);
    await moduleRef.close();
  });

  it('fails the boot when two handlers share a name', async () => {
    @Injectable()
    class Other {
      @TaskHandler('send-mail')
      again() {}
    }
    await expect(boot({}, { providers: [Other] })).rejects.toThrow(DuplicateTaskHandlerError);
    await expect(boot({}, { providers: [Other] })).rejects.toThrow(
      /"send-mail": MailService\.send and Other\.again|"send-mail": Other\.again and MailService\.send/,
    );
  });

  it.each([
    [{ concurrency: 0 }, /`concurrency` must be an integer ≥ 1; got 0\./],
    [{ attempts: 1.5 }, /`attempts` must be an integer ≥ 1; got 1\.5\./],
    [{ driver: 'redis' as never }, /`driver` must be "memory" or "bullmq"; got "redis"\./],
    [{ driver: 'bullmq' as const }, /connection/],
    [{ driver: 'bullmq' as const, connection: { url: 'http://localhost' } }, /connection\.url/],
    [{ backoff: { type: 'linear' as never, delayMs: 10 } }, /backoff\.type/],
    [{ backoff: { type: 'fixed' as const, delayMs: 10, jitter: 2 } }, /backoff\.jitter/],
  ])('fails the boot on an invalid option %o, naming it', async (options, message) => {
    await expect(boot(options)).rejects.toThrow(InvalidTaskQueueOptionsError);
    await expect(boot(options)).rejects.toThrow(message);
  });

  it('fails the boot on an invalid @TaskHandler option, naming the handler', async () => {
    @Injectable()
    class Bad {
      @TaskHandler('bad', { timeoutMs: -5 })
      run() {}
    }
    await expect(boot({}, { providers: [Bad] })).rejects.toThrow(
      /`@TaskHandler\("bad"\) on Bad\.run: timeoutMs` must be an integer from 1 to 2147483647 \(milliseconds\); got -5\./,
    );
  });

  it('ignores request-scoped handlers with a warning', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    @Injectable({ scope: Scope.REQUEST })
    class Scoped {
      @TaskHandler('scoped')
      run() {}
    }
    const moduleRef = await boot({}, { providers: [Scoped] });
    const queue = moduleRef.get(TaskQueue);
    await expect(queue.enqueue('scoped', {})).rejects.toThrow(UnknownTaskError);
    expect(warn.mock.calls.some(([m]) => /Scoped\.run is ignored: request-scoped/.test(String(m)))).toBe(true);
    await moduleRef.close();
  });

  it('warns at boot when shutdown hooks are not enabled', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    vi.spyOn(process, 'listenerCount').mockReturnValue(0);
    const moduleRef = await boot({ warnWithoutShutdownHooks: true });
    await new Promise((r) => setTimeout(r, 1_100));
    expect(warn.mock.calls.some(([m]) => /enableShutdownHooks/.test(String(m)))).toBe(true);
    await moduleRef.close();
  });

  it('does not warn when the application enabled shutdown hooks', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => {});
    const moduleRef = await Test.createTestingModule({
      imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: true }), FeatureModule],
    }).compile();
    const app = moduleRef.createNestApplication();
    app.enableShutdownHooks(['SIGTERM']);
    await app.init();
    await new Promise((r) => setTimeout(r, 1_100));
    expect(warn.mock.calls.some(([m]) => /enableShutdownHooks/.test(String(m)))).toBe(false);
    await app.close();
  });
});

describe('hostile inputs at each public entry point (issue 11)', () => {
  afterEach(() => vi.restoreAllMocks());

  it.each([
    ['memory', {}],
    ['bullmq', { connection: { url: 'redis://127.0.0.1:1' } }],
  ] as const)(
    'defect 26: fails the %s boot on a @TaskHandler timeoutMs of 2^31 ms, which Node would fire at once',
    async (driver, extra) => {
      @Injectable()
      class TooLong {
        @TaskHandler('too-long', { timeoutMs: 2 ** 31 })
        run() {}
      }
      const moduleRef = await Test.createTestingModule({
        imports: [TaskQueueModule.forRoot({ driver, ...extra, warnWithoutShutdownHooks: false })],
        providers: [TooLong],
      }).compile();
      await expect(moduleRef.init()).rejects.toThrow(
        /`@TaskHandler\("too-long"\) on TooLong\.run: timeoutMs` must be an integer from 1 to 2147483647 \(milliseconds\); got 2147483648\./,
      );
      await moduleRef.close();
    },
  );

  it.each([
    [{ concurrency: Number.NaN }, /concurrency` must be an integer ≥ 1; got NaN/],
    [{ concurrency: 0.5 }, /concurrency` must be an integer ≥ 1; got 0\.5/],
    [{ attempts: Number.POSITIVE_INFINITY }, /attempts` must be an integer ≥ 1; got Infinity/],
    [{ timeoutMs: Number.NaN }, /timeoutMs` must be .*\(milliseconds\); got NaN/],
    [{ backoff: { type: 'fixed', delayMs: -1 } }, /backoff\.delayMs` must be .*; got -1/],
    [{ backoff: { type: 'fixed', delayMs: 2 ** 31 } }, /backoff\.delayMs` must be .*2147483647.*; got 2147483648/],
    [{ backoff: 'fast' }, /backoff` must be \{ type/],
  ])('fails the boot on the @TaskHandler option %o, naming the handler and the option', async (options, message) => {
    @Injectable()
    class Bad {
      @TaskHandler('bad', options as never)
      run() {}
    }
    await expect(boot({}, { providers: [Bad] })).rejects.toThrow(InvalidTaskQueueOptionsError);
    await expect(boot({}, { providers: [Bad] })).rejects.toThrow(/^`@TaskHandler\("bad"\) on Bad\.run: /);
    await expect(boot({}, { providers: [Bad] })).rejects.toThrow(message);
  });

  it('fails the boot when a forRootAsync factory returns no options object', async () => {
    const moduleRef = Test.createTestingModule({
      imports: [TaskQueueModule.forRootAsync({ useFactory: () => undefined as never })],
    }).compile();
    await expect(moduleRef).rejects.toThrow(/`TaskQueueModule options` must be an object; got undefined\. Return/);
  });

  it.each([
    [{ delayMs: 2 ** 31 * 20 }, /`enqueue\("send-mail"\)\.delayMs` must be an integer from 0 to 31536000000/],
    [{ delayMs: Number.NaN }, /`enqueue\("send-mail"\)\.delayMs` must be .*; got NaN\./],
    [{ delayMs: Number.POSITIVE_INFINITY }, /delayMs` must be .*; got Infinity\./],
    [{ delayMs: -1 }, /delayMs` must be .*; got -1\./],
    [{ delayMs: 1.5 }, /delayMs` must be .*; got 1\.5\./],
    [{ priority: 2_097_152 }, /`enqueue\("send-mail"\)\.priority` must be an integer from 0 to 2097151/],
    [{ priority: Number.NaN }, /priority` must be .*; got NaN/],
    [{ attempts: 0 }, /`enqueue\("send-mail"\)\.attempts` must be an integer ≥ 1; got 0/],
    [{ attempts: Number.POSITIVE_INFINITY }, /attempts` must be .*; got Infinity/],
    [
      { backoff: { type: 'fixed', delayMs: 2 ** 31 } },
      /`enqueue\("send-mail"\)\.backoff\.delayMs` must be .*2147483647/,
    ],
    [{ backoff: { type: 'fixed', delayMs: 10, jitter: Number.NaN } }, /backoff\.jitter` must be a finite number/],
    [{ dedupKey: '' }, /`enqueue\("send-mail"\)\.dedupKey` must be a non-empty string; got ""/],
    [{ dedupKey: 42 }, /dedupKey` must be a non-empty string; got 42/],
  ])(
    'rejects the enqueue option %o with InvalidEnqueueOptionsError naming it, and enqueues nothing',
    async (options, message) => {
      const moduleRef = await boot({});
      const queue = moduleRef.get(TaskQueue);
      await expect(queue.enqueue('send-mail', { to: 'x' }, options as never)).rejects.toThrow(
        InvalidEnqueueOptionsError,
      );
      await expect(queue.enqueue('send-mail', { to: 'x' }, options as never)).rejects.toThrow(message);
      await expect(
        queue.enqueueMany([
          { name: 'send-mail', payload: { to: 'ok' } },
          { name: 'send-mail', payload: { to: 'x' }, options: options as never },
        ]),
      ).rejects.toThrow(message);
      expect(await queue.stats()).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 0 });
      await moduleRef.close();
    },
  );

  it('rejects bad arguments of retryDead, listDead, waitUntilIdle and enqueueMany with InvalidTaskQueueArgumentError', async () => {
    const moduleRef = await boot({});
    const queue = moduleRef.get(TaskQueue);
    await expect(queue.retryDead([1] as never)).rejects.toThrow(InvalidTaskQueueArgumentError);
    await expect(queue.retryDead(undefined as never)).rejects.toThrow(
      /`retryDead\(ids\)` must be a task id or an array/,
    );
    await expect(queue.retryDead('')).rejects.toThrow(/; got ""\./);
    await expect(queue.listDead({ limit: -1 })).rejects.toThrow(
      /`listDead\(\{ limit \}\)` must be an integer ≥ 0; got -1/,
    );
    await expect(queue.listDead({ offset: Number.NaN })).rejects.toThrow(/`listDead\(\{ offset \}\)`.*got NaN/);
    await expect(queue.waitUntilIdle({ timeoutMs: 2 ** 31 })).rejects.toThrow(
      /`waitUntilIdle\(\{ timeoutMs \}\)` must be an integer from 0 to 2147483647 \(milliseconds\)/,
    );
    await expect(queue.enqueueMany('send-mail' as never)).rejects.toThrow(/`enqueueMany\(items\)` must be an array/);
    await moduleRef.close();
  });
});

describe('unknown keys in @TaskHandler, enqueue and call options', () => {
  it.each([
    [
      { atempts: 2 },
      'options',
      'atempts',
      'attempts',
      'queue, concurrency, attempts, backoff, timeoutMs, batch, rateLimit',
    ],
    [{ backoff: { type: 'fixed', delay: 10 } }, 'backoff', 'delay', 'delayMs', 'type, delayMs, jitter'],
    [{ batch: { maxSize: 2, maxWait: 10 } }, 'batch', 'maxWait', 'maxWaitMs', 'maxSize, maxWaitMs'],
    [{ rateLimit: { max: 2, perMS: 1_000 } }, 'rateLimit', 'perMS', 'perMs', 'max, perMs'],
  ])(
    'fails the boot on the @TaskHandler options %o, naming the handler, the path and the nearest key',
    async (options, path, key, suggestion, known) => {
      @Injectable()
      class Typo {
        @TaskHandler('typo', options as never)
        run() {}
      }
      await expect(boot({}, { providers: [Typo] })).rejects.toThrow(InvalidTaskQueueOptionsError);
      await expect(boot({}, { providers: [Typo] })).rejects.toThrow(
        `\`@TaskHandler("typo") on Typo.run: ${path}\` has no key "${key}": did you mean "${suggestion}"? ` +
          `Known keys: ${known}. Fix its name or remove it (a misspelled key would otherwise be ignored).`,
      );
    },
  );

  it.each([
    [{ dealyMs: 1_000 }, '`enqueue("send-mail") options` has no key "dealyMs": did you mean "delayMs"?'],
    [{ dedupkey: 'k' }, '`enqueue("send-mail") options` has no key "dedupkey": did you mean "dedupKey"?'],
    [
      { backoff: { type: 'fixed', delayMs: 10, jitterr: 0.1 } },
      '`enqueue("send-mail").backoff` has no key "jitterr": did you mean "jitter"? Known keys: type, delayMs, jitter.',
    ],
  ])(
    'rejects the enqueue options %o with InvalidEnqueueOptionsError, also in enqueueMany, and enqueues nothing',
    async (options, message) => {
      const moduleRef = await boot({});
      const queue = moduleRef.get(TaskQueue);
      await expect(queue.enqueue('send-mail', { to: 'x' }, options as never)).rejects.toThrow(
        InvalidEnqueueOptionsError,
      );
      await expect(queue.enqueue('send-mail', { to: 'x' }, options as never)).rejects.toThrow(message);
      const many = queue.enqueueMany([
        { name: 'send-mail', payload: { to: 'ok' } },
        { name: 'send-mail', payload: { to: 'x' }, options: options as never },
      ]);
      await expect(many).rejects.toThrow(InvalidEnqueueOptionsError);
      await expect(many).rejects.toThrow(message);
      expect(await queue.stats()).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 0 });
      await moduleRef.close();
    },
  );

  it('rejects a misspelled key of an enqueueMany item, listDead or waitUntilIdle with InvalidTaskQueueArgumentError', async () => {
    const moduleRef = await boot({});
    const queue = moduleRef.get(TaskQueue);
    const many = queue.enqueueMany([
      { name: 'send-mail', payload: { to: 'ok' } },
      { name: 'send-mail', payload: { to: 'x' }, option: { delayMs: 5 } } as never,
    ]);
    await expect(many).rejects.toThrow(InvalidTaskQueueArgumentError);
    await expect(many).rejects.toThrow(
      '`enqueueMany(items)[1]` has no key "option": did you mean "options"? Known keys: name, payload, options.',
    );
    await expect(queue.listDead({ limt: 5 } as never)).rejects.toThrow(InvalidTaskQueueArgumentError);
    await expect(queue.listDead({ limt: 5 } as never)).rejects.toThrow(
      '`listDead(options)` has no key "limt": did you mean "limit"? Known keys: offset, limit.',
    );
    await expect(queue.waitUntilIdle({ timeout: 5 } as never)).rejects.toThrow(InvalidTaskQueueArgumentError);
    await expect(queue.waitUntilIdle({ timeout: 5 } as never)).rejects.toThrow(
      '`waitUntilIdle(options)` has no key "timeout": did you mean "timeoutMs"?',
    );
    expect(await queue.stats()).toMatchObject({ waiting: 0, delayed: 0, active: 0, completed: 0 });
    await moduleRef.close();
  });

  it('never checks the keys of a payload', async () => {
    const moduleRef = await boot({});
    const queue = moduleRef.get(TaskQueue);
    const payload = { to: 'a', dealyMs: 1, atempts: 2, backoff: { typo: true } };
    await queue.enqueue('send-mail', payload, { delayMs: 0 });
    await queue.enqueueMany([{ name: 'send-mail', payload, options: {} }]);
    await queue.waitUntilIdle({ timeoutMs: 5_000 });
    expect(moduleRef.get(MailService).sent).toEqual(['a#1', 'a#1']);
    await moduleRef.close();
  });
});

describe('every nested option object filled with every key it declares (BullMQ, real Redis)', () => {
  const backoff = { type: 'exponential', delayMs: 10, jitter: 0.1 } as const;
  const retention = { completed: { count: 50, ageMs: 60_000 }, dead: { count: 50, ageMs: 60_000 } };
  const bullmq = { reconnectMaxDelayMs: 1_000, lockDurationMs: 5_000, stalledIntervalMs: 5_000, maxStalledCount: 2 };

  @Injectable()
  class Everything {
    readonly runs: string[] = [];
    readonly billed: TaskEvent[] = [];

    @TaskHandler('all-options', {
      concurrency: 2,
      attempts: 2,
      backoff,
      timeoutMs: 5_000,
      rateLimit: { max: 100, perMs: 1_000 },
    })
    all(payload: { n: number }) {
      this.runs.push(`all-${payload.n}`);
    }

    @TaskHandler('bulk', { attempts: 1, batch: { maxSize: 2, maxWaitMs: 20 } })
    bulk(tasks: BatchTask<{ n: number }>[]) {
      for (const task of tasks) this.runs.push(`bulk-${task.payload.n}`);
    }

    @TaskHandler('charge', { queue: 'keys-billing', backoff })
    charge() {
      this.runs.push('charge');
    }

    @ScheduledTask('tick', {
      queue: 'keys-ticks',
      everyMs: 200,
      payload: { dealyMs: 'task data' },
      attempts: 1,
      backoff,
    })
    tick(payload: unknown) {
      this.runs.push(`tick-${JSON.stringify(payload)}`);
    }

    @OnTaskEvent('completed', { queue: 'keys-billing' })
    onBilled(event: TaskEvent) {
      this.billed.push(event);
    }
  }

  it('boots, enqueues with every enqueue option, and runs everything', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        TaskQueueModule.forRoot({
          driver: 'bullmq',
          // ioredis options beside the URL are ioredis's own: never key-checked.
          connection: { url: redisUrl(), connectTimeout: 5_000 },
          prefix: uniquePrefix('tq-keys'),
          concurrency: 4,
          attempts: 2,
          backoff,
          timeoutMs: 10_000,
          dedupWindowMs: 60_000,
          shutdownDeadlineMs: 2_000,
          workers: true,
          keepCompleted: 10,
          retention,
          enqueueTimeoutMs: 5_000,
          bullmq,
          warnWithoutShutdownHooks: false,
        }),
        TaskQueueModule.registerQueue({ name: 'keys-billing', concurrency: 2, backoff, retention, bullmq }),
        TaskQueueModule.registerQueue({ name: 'keys-ticks' }),
      ],
      providers: [Everything],
    }).compile();
    await moduleRef.init();
    try {
      const queue = moduleRef.get(TaskQueue);
      const billing = moduleRef.get<TaskQueue>(getTaskQueueToken('keys-billing'));
      await queue.enqueue('all-options', { n: 1 }, { delayMs: 1, priority: 3, attempts: 2, backoff, dedupKey: 'k1' });
      await queue.enqueue('all-options', { n: 2 }, { group: 'tenant-a', attempts: 1 });
      await queue.enqueueMany([
        { name: 'all-options', payload: { n: 3 }, options: { delayMs: 0, backoff, dedupKey: 'k3' } },
        { name: 'bulk', payload: { n: 1 } },
        { name: 'bulk', payload: { n: 2 }, options: {} },
      ]);
      await billing.enqueue('charge', undefined, { attempts: 1 });
      await queue.waitUntilIdle({ timeoutMs: 15_000 });
      await billing.waitUntilIdle({ timeoutMs: 15_000 });
      const everything = moduleRef.get(Everything);
      await until(() => everything.runs.includes('tick-{"dealyMs":"task data"}'), 15_000);
      expect(everything.runs.filter((r) => !r.startsWith('tick-')).toSorted()).toEqual([
        'all-1',
        'all-2',
        'all-3',
        'bulk-1',
        'bulk-2',
        'charge',
      ]);
      await until(() => everything.billed.length === 1);
      expect(everything.billed[0]).toMatchObject({ queue: 'keys-billing', name: 'charge' });
      expect(await queue.listDead({ offset: 0, limit: 10 })).toEqual([]);
    } finally {
      await moduleRef.close();
    }
  });
});
