import { type DynamicModule, Injectable, Module } from '@nestjs/common';
import { getQueueToken } from '@nestjs/bullmq';
import { Test, type TestingModule } from '@nestjs/testing';
import { InjectTaskQueue } from '../decorators/inject-task-queue.decorator.js';
import { TaskHandler } from '../decorators/task-handler.decorator.js';
import { UnknownTaskError } from '../errors/unknown-task.error.js';
import type { TaskContext } from '../interfaces/task-context.interface.js';
import type { RegisterTaskQueueOptions } from '../interfaces/task-queue-options.interface.js';
import { TaskQueueModule } from '../task-queue.module.js';
import { TaskQueue } from '../task-queue.service.js';
import { getTaskQueueToken } from '../task-queue.tokens.js';
import { type ConformanceOptions, Probe, sleep, until } from './driver.conformance.js';

@Injectable()
class EmailHandlers {
  constructor(readonly probe: Probe) {}

  @TaskHandler('send', { queue: 'emails' })
  send(payload: unknown, context: TaskContext) {
    return this.probe.run('send', payload, context);
  }

  /** The same task name as a handler of the reports queue: each queue runs its own. */
  @TaskHandler('cleanup', { queue: 'emails' })
  cleanup(payload: unknown, context: TaskContext) {
    return this.probe.run('cleanup@emails', payload, context);
  }
}

/** A producer in the feature module, as an app would write it. */
@Injectable()
class EmailProducer {
  constructor(@InjectTaskQueue('emails') readonly queue: TaskQueue) {}
}

@Injectable()
class ReportHandlers {
  constructor(readonly probe: Probe) {}

  @TaskHandler('render', { queue: 'reports' })
  render(payload: unknown, context: TaskContext) {
    return this.probe.run('render', payload, context);
  }

  @TaskHandler('cleanup', { queue: 'reports' })
  cleanup(payload: unknown, context: TaskContext) {
    return this.probe.run('cleanup@reports', payload, context);
  }
}

@Injectable()
class RootHandlers {
  constructor(readonly probe: Probe) {}

  @TaskHandler('echo')
  echo(payload: unknown, context: TaskContext) {
    return this.probe.run('echo', payload, context);
  }
}

@Module({})
class EmailsModule {}

@Module({})
class ReportsModule {}

@Module({})
class ProbeModule {}

interface SeveralQueuesApp {
  moduleRef: TestingModule;
  probe: Probe;
  root: TaskQueue;
  emails: TaskQueue;
  reports: TaskQueue;
  close(): Promise<void>;
}

async function bootSeveralQueues(
  options: ConformanceOptions,
  queues: { emails?: Omit<RegisterTaskQueueOptions, 'name'>; reports?: Omit<RegisterTaskQueueOptions, 'name'> } = {},
): Promise<SeveralQueuesApp> {
  const probe = new Probe();
  const probeModule: DynamicModule = {
    module: ProbeModule,
    global: true,
    providers: [{ provide: Probe, useValue: probe }],
    exports: [Probe],
  };
  const emails: DynamicModule = {
    module: EmailsModule,
    imports: [TaskQueueModule.registerQueue({ name: 'emails', ...queues.emails })],
    providers: [EmailHandlers, EmailProducer],
  };
  const reports: DynamicModule = {
    module: ReportsModule,
    imports: [TaskQueueModule.registerQueue({ name: 'reports', ...queues.reports })],
    providers: [ReportHandlers],
  };
  const moduleRef = await Test.createTestingModule({
    imports: [TaskQueueModule.forRoot({ warnWithoutShutdownHooks: false, ...options }), probeModule, emails, reports],
    providers: [RootHandlers],
  }).compile();
  await moduleRef.init();
  return {
    moduleRef,
    probe,
    root: moduleRef.get(TaskQueue),
    emails: moduleRef.get(EmailProducer, { strict: false }).queue,
    reports: moduleRef.get(getTaskQueueToken('reports'), { strict: false }),
    close: () => moduleRef.close(),
  };
}

/**
 * Issue 15 item 1, for every driver: queues registered in feature modules run only their own handlers, with their
 * own concurrency and worker switch, and a task enqueued on the wrong queue fails at once.
 */
export function describeSeveralQueuesConformance(label: string, makeOptions: () => ConformanceOptions): void {
  describe(`several queues: ${label}`, () => {
    let app: SeveralQueuesApp | undefined;
    const boot = async (queues?: Parameters<typeof bootSeveralQueues>[1]) =>
      (app = await bootSeveralQueues(makeOptions(), queues));

    afterEach(async () => {
      await app?.close();
      app = undefined;
    });

    it('injects each queue by name, and runs each task only on the queue its handler is bound to', async () => {
      const { root, emails, reports, probe, moduleRef } = await boot();
      expect([root.name, emails.name, reports.name]).toEqual([
        makeOptions().queueName ?? 'nest-scale-tasks',
        'emails',
        'reports',
      ]);
      expect(moduleRef.get(getTaskQueueToken(), { strict: false })).toBe(root);
      expect(moduleRef.get(getTaskQueueToken(root.name), { strict: false })).toBe(root);
      expect(emails.taskNames().toSorted()).toEqual(['cleanup', 'send']);
      expect(reports.taskNames().toSorted()).toEqual(['cleanup', 'render']);
      expect(root.taskNames()).toEqual(['echo']);

      const sent = await emails.enqueue('send', { to: 'a@example.com' });
      const rendered = await reports.enqueue('render', { id: 1 });
      await emails.enqueue('cleanup', 'e');
      await reports.enqueue('cleanup', 'r');
      await root.enqueue('echo', 'root');
      await until(() => probe.calls.length === 5);
      expect(probe.calls.map((c) => `${c.name}:${JSON.stringify(c.payload)}`).toSorted()).toEqual([
        'cleanup@emails:"e"',
        'cleanup@reports:"r"',
        'echo:"root"',
        'render:{"id":1}',
        'send:{"to":"a@example.com"}',
      ]);
      await until(async () => (await emails.getTask(sent.id))?.state === 'completed');
      expect(await emails.getTask(sent.id)).toMatchObject({ name: 'send', state: 'completed' });
      await until(async () => (await reports.getTask(rendered.id))?.state === 'completed');
    });

    it('rejects at once a task of another queue, naming the queue that runs it, and enqueues nothing', async () => {
      const { root, emails, reports } = await boot({ reports: { workers: false } });
      await expect(emails.enqueue('render', {})).rejects.toBeInstanceOf(UnknownTaskError);
      await expect(emails.enqueue('render', {})).rejects.toThrow(
        /Task "render" runs on the queue "reports", not on "emails".*@InjectTaskQueue\("reports"\)/,
      );
      await expect(root.enqueue('send', {})).rejects.toThrow(/runs on the queue "emails"/);
      await expect(reports.enqueueMany([{ name: 'render' }, { name: 'echo' }])).rejects.toThrow(
        `Task "echo" runs on the queue "${root.name}"`,
      );
      await expect(emails.enqueue('nope', {})).rejects.toThrow(/No @TaskHandler .* "nope" on the queue "emails"/);
      for (const queue of [root, emails, reports]) expect((await queue.stats()).waiting).toBe(0);
    });

    it('gives each queue its own concurrency and worker switch', async () => {
      const { emails, reports, probe } = await boot({ emails: { concurrency: 3 }, reports: { workers: false } });
      probe.behaviours.set('send', () => sleep(40));
      await emails.enqueueMany(Array.from({ length: 9 }, (_, i) => ({ name: 'send', payload: i })));
      const render = await reports.enqueue('render', 'waits');
      await emails.waitUntilIdle({ timeoutMs: 20_000 });
      expect(probe.callsOf('send')).toHaveLength(9);
      expect(probe.maxRunning.get('send')).toBe(3);
      // No worker on the reports queue of this instance: its task waits, untouched.
      await sleep(100);
      expect(probe.callsOf('render')).toHaveLength(0);
      expect((await reports.getTask(render.id))?.state).toBe('waiting');
      expect((await reports.stats()).waiting).toBe(1);
    });

    it('exposes the BullMQ queue of each registered queue under @InjectQueue(name) (null on memory)', async () => {
      const { moduleRef, emails } = await boot();
      const bull = moduleRef.get(getQueueToken('emails'), { strict: false });
      if (makeOptions().driver === 'bullmq') {
        expect(bull).toBe(emails.bullQueue);
        expect(bull.name).toBe('emails');
      } else {
        expect(bull).toBeNull();
      }
    });
  });
}
