import assert from 'node:assert/strict';
import fc from 'fast-check';
import { propertyParameters, propertyRuns, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { NonRetryableError } from '../errors/non-retryable.error.js';
import { TaskEnqueueError } from '../errors/task-enqueue.error.js';
import type { EnqueueOptions } from '../interfaces/enqueue-options.interface.js';
import type { TaskRef } from '../interfaces/task-ref.interface.js';
import { bootConformanceApp, type ConformanceApp, type ConformanceOptions } from './driver.conformance.js';

/*
 * Model-based conformance: random sequences of enqueues (delays, priorities, dedup keys, attempts), handler
 * outcomes, dead-task retries, listings, waits and a final drain, run on each driver and checked against ONE
 * reference model. Both drivers agreeing with the model is what makes them agree with each other.
 */

type Outcome = 'ok' | 'throw' | 'fatal';
type HandlerName = 'echo' | 'flaky' | 'serial';

/** Attempts budget per handler, as the module below configures them (flaky declares its own). */
const HANDLER_ATTEMPTS: Record<HandlerName, number> = { echo: 2, flaky: 3, serial: 2 };
const MODULE_OPTIONS: ConformanceOptions = {
  attempts: 2,
  backoff: { type: 'fixed', delayMs: 5, jitter: 0 },
  concurrency: 4,
};

interface ModelTask {
  index: number;
  name: HandlerName;
  payload: { k: number; plan: Outcome[] };
  attempts: number;
  /** Handler runs so far, over every retry. */
  runs: number;
  /** Runs in the current attempts budget (what `attemptsMade` reports). */
  cycleRuns: number;
  state: 'completed' | 'failed';
}

/** The reference: every task's fate is decided by its plan, its budget and the retries it got. */
class Model {
  readonly tasks: ModelTask[] = [];
  readonly dedup = new Map<string, ModelTask>();
  closed = false;

  enqueue(spec: TaskSpec): ModelTask {
    const seen = spec.dedupKey === undefined ? undefined : this.dedup.get(spec.dedupKey);
    if (seen !== undefined) return seen;
    const task: ModelTask = {
      index: this.tasks.length,
      name: spec.name,
      payload: { k: this.tasks.length, plan: spec.plan },
      attempts: spec.attempts ?? HANDLER_ATTEMPTS[spec.name],
      runs: 0,
      cycleRuns: 0,
      state: 'failed',
    };
    this.tasks.push(task);
    if (spec.dedupKey !== undefined) this.dedup.set(spec.dedupKey, task);
    this.run(task);
    return task;
  }

  /** Runs a task through its budget: until a success, a non-retryable failure, or the last attempt. */
  run(task: ModelTask): void {
    task.cycleRuns = 0;
    for (;;) {
      const outcome = task.payload.plan[task.runs] ?? 'ok';
      task.runs++;
      task.cycleRuns++;
      if (outcome === 'ok') return void (task.state = 'completed');
      if (outcome === 'fatal' || task.cycleRuns >= task.attempts) return void (task.state = 'failed');
    }
  }

  dead(): ModelTask[] {
    return this.tasks.filter((t) => t.state === 'failed');
  }
}

interface Real {
  app: ConformanceApp;
  /** Real task id of each model task, by model index. */
  ids: string[];
  /** Handler runs per real task id. */
  runs: Map<string, number>;
}

interface TaskSpec {
  name: HandlerName;
  plan: Outcome[];
  delayMs: number;
  priority: number;
  attempts: number | undefined;
  dedupKey: string | undefined;
}

const taskSpec: fc.Arbitrary<TaskSpec> = fc.record({
  name: fc.constantFrom<HandlerName>('echo', 'flaky', 'serial'),
  plan: fc.array(fc.constantFrom<Outcome>('ok', 'throw', 'fatal'), { maxLength: 4 }),
  delayMs: fc.constantFrom(0, 0, 15, 40),
  priority: fc.constantFrom(0, 0, 1, 7),
  attempts: fc.constantFrom(undefined, 1, 2, 3),
  dedupKey: fc.constantFrom(undefined, undefined, 'order:1', 'order:2/eu', '{tenant}:3'),
});

function optionsOf(spec: TaskSpec): EnqueueOptions {
  return {
    ...(spec.delayMs > 0 ? { delayMs: spec.delayMs } : {}),
    ...(spec.priority > 0 ? { priority: spec.priority } : {}),
    ...(spec.attempts !== undefined ? { attempts: spec.attempts } : {}),
    ...(spec.dedupKey !== undefined ? { dedupKey: spec.dedupKey } : {}),
  };
}

/** The enqueue answered a dedup hit with the original's reference, or a new task was recorded. */
function expectRef(real: Real, task: ModelTask, ref: TaskRef): void {
  if (task.index < real.ids.length) {
    assert.deepEqual(ref, { id: real.ids[task.index], name: task.name });
  } else {
    assert.equal(ref.name, task.name);
    assert.ok(!real.ids.includes(ref.id), `a new task got the id ${ref.id} of an earlier one`);
    real.ids.push(ref.id);
  }
}

class EnqueueCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly spec: TaskSpec) {}
  check = (m: Readonly<Model>) => !m.closed;
  async run(m: Model, r: Real): Promise<void> {
    const ref = await r.app.queue.enqueue(
      this.spec.name,
      { k: m.tasks.length, plan: this.spec.plan },
      optionsOf(this.spec),
    );
    expectRef(r, m.enqueue(this.spec), ref);
    assert.equal(r.ids.length, m.tasks.length);
  }
  toString = () => `enqueue(${JSON.stringify(this.spec)})`;
}

class EnqueueManyCommand implements fc.AsyncCommand<Model, Real> {
  constructor(readonly specs: TaskSpec[]) {}
  check = (m: Readonly<Model>) => !m.closed;
  async run(m: Model, r: Real): Promise<void> {
    // Payload keys follow the model's numbering, which only grows for tasks that are not dedup hits.
    const items = [];
    const tasks: ModelTask[] = [];
    for (const spec of this.specs) {
      const next = m.tasks.length;
      const task = m.enqueue(spec);
      tasks.push(task);
      items.push({
        name: spec.name,
        payload: { k: task.index === next ? next : -1, plan: spec.plan },
        options: optionsOf(spec),
      });
    }
    const refs = await r.app.queue.enqueueMany(items);
    tasks.forEach((task, i) => expectRef(r, task, refs[i]));
    assert.equal(r.ids.length, m.tasks.length);
  }
  toString = () => `enqueueMany(${JSON.stringify(this.specs)})`;
}

class RetryDeadCommand implements fc.AsyncCommand<Model, Real> {
  /** `'all'`, or picks into the model's tasks (modulo their count), repeats included, plus an unknown id. */
  constructor(readonly pick: 'all' | number[]) {}
  check = (m: Readonly<Model>) => !m.closed;
  async run(m: Model, r: Real): Promise<void> {
    await idle(m, r);
    const dead = m.dead();
    let moved: number;
    let retried: ModelTask[];
    if (this.pick === 'all') {
      moved = await r.app.queue.retryAllDead();
      retried = dead;
    } else {
      const chosen = m.tasks.length === 0 ? [] : this.pick.map((i) => m.tasks[i % m.tasks.length]);
      moved = await r.app.queue.retryDead([...chosen.map((t) => r.ids[t.index]), 'no-such-task']);
      retried = [...new Set(chosen)].filter((t) => t.state === 'failed');
    }
    assert.equal(moved, retried.length);
    for (const task of retried) m.run(task);
  }
  toString = () => `retryDead(${JSON.stringify(this.pick)})`;
}

class ListDeadCommand implements fc.AsyncCommand<Model, Real> {
  constructor(
    readonly offset: number,
    readonly limit: number,
  ) {}
  check = (m: Readonly<Model>) => !m.closed;
  async run(m: Model, r: Real): Promise<void> {
    await idle(m, r);
    const page = await r.app.queue.listDead({ offset: this.offset, limit: this.limit });
    assert.equal(page.length, Math.max(0, Math.min(this.limit, m.dead().length - this.offset)));
    const deadIds = new Set(m.dead().map((t) => r.ids[t.index]));
    for (const info of page) assert.ok(deadIds.has(info.id), `listDead returned ${info.id}, which is not dead`);
  }
  toString = () => `listDead(${this.offset}, ${this.limit})`;
}

class WaitIdleCommand implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.closed;
  run = (m: Model, r: Real) => idle(m, r);
  toString = () => 'waitUntilIdle()';
}

class DrainCommand implements fc.AsyncCommand<Model, Real> {
  check = (m: Readonly<Model>) => !m.closed;
  async run(m: Model, r: Real): Promise<void> {
    await idle(m, r);
    await r.app.close();
    m.closed = true;
    await assert.rejects(r.app.queue.enqueue('echo', { k: -1, plan: [] }), TaskEnqueueError);
  }
  toString = () => 'drain()';
}

/** Waits until idle, then checks every task against the model: runs, state, attempts, listing and counts. */
async function idle(m: Model, r: Real): Promise<void> {
  await r.app.queue.waitUntilIdle({ timeoutMs: 15_000 });
  for (const task of m.tasks) {
    const id = r.ids[task.index];
    assert.deepEqual({ task: task.index, runs: r.runs.get(id) ?? 0 }, { task: task.index, runs: task.runs });
    const info = await r.app.queue.getTask(id);
    assert.deepEqual(
      info && {
        id: info.id,
        name: info.name,
        state: info.state,
        payload: info.payload,
        attemptsMade: info.attemptsMade,
        maxAttempts: info.maxAttempts,
      },
      {
        id,
        name: task.name,
        state: task.state,
        payload: task.payload,
        attemptsMade: task.cycleRuns,
        maxAttempts: task.attempts,
      },
    );
  }
  const dead = await r.app.queue.listDead({ limit: 1_000 });
  assert.deepEqual(
    dead.map((t) => t.id).toSorted(),
    m
      .dead()
      .map((t) => r.ids[t.index])
      .toSorted(),
  );
  const { waiting, active, delayed, failed, completed } = await r.app.queue.stats();
  assert.deepEqual(
    { waiting, active, delayed, failed, completed },
    { waiting: 0, active: 0, delayed: 0, failed: m.dead().length, completed: m.tasks.length - m.dead().length },
  );
  idleChecks++;
}

/** How many full checks ran, so the test can tell that its runs did not pass vacuously. */
let idleChecks = 0;

const commands = fc.commands(
  [
    taskSpec.map((spec) => new EnqueueCommand(spec)),
    fc.array(taskSpec, { minLength: 1, maxLength: 4 }).map((specs) => new EnqueueManyCommand(specs)),
    fc
      .oneof(fc.constant('all' as const), fc.array(fc.nat(20), { minLength: 1, maxLength: 3 }))
      .map((pick) => new RetryDeadCommand(pick)),
    fc.tuple(fc.nat(3), fc.integer({ min: 1, max: 4 })).map(([offset, limit]) => new ListDeadCommand(offset, limit)),
    fc.constant(new WaitIdleCommand()),
    fc.constant(new DrainCommand()),
  ],
  { maxCommands: 12 },
);

/** Each handler follows the plan carried by its payload, indexed by how many times this task ran, then wrecks it. */
function planned(runs: Map<string, number>) {
  return (payload: unknown, context: { id: string }) => {
    const n = runs.get(context.id) ?? 0;
    runs.set(context.id, n + 1);
    const { plan } = payload as { plan: Outcome[] };
    const outcome = plan[n] ?? 'ok';
    // A handler may mutate its payload; later attempts and readers must still see it as enqueued.
    plan.splice(0);
    if (outcome === 'throw') throw new Error(`planned failure ${n + 1}`);
    if (outcome === 'fatal') throw new NonRetryableError(`planned fatal failure ${n + 1}`);
    return { ran: n + 1 };
  };
}

const drivers: [string, () => ConformanceOptions, number][] = [
  ['memory', () => ({ driver: 'memory' }), 150],
  ['bullmq', () => ({ driver: 'bullmq', connection: { url: redisUrl() }, prefix: uniquePrefix('tq-model') }), 60],
];

describe('task queue drivers against one reference model (model-based)', () => {
  it.each(drivers)(
    '%s driver agrees with the model',
    async (_label, driverOptions, ciRuns) => {
      idleChecks = 0;
      await fc.assert(
        fc.asyncProperty(commands, async (cmds) => {
          const app = await bootConformanceApp({ ...MODULE_OPTIONS, ...driverOptions() });
          const runs = new Map<string, number>();
          for (const name of ['echo', 'flaky', 'serial']) app.probe.behaviours.set(name, planned(runs));
          const model = new Model();
          const real: Real = { app, ids: [], runs };
          try {
            await fc.asyncModelRun(() => ({ model, real }), cmds);
            if (!model.closed) await idle(model, real);
          } finally {
            await app.close();
          }
        }),
        propertyParameters(ciRuns),
      );
      // Every run ends with a full check, and most check more often than that.
      expect(idleChecks).toBeGreaterThan(propertyRuns(ciRuns) * 2);
    },
    120_000,
  );
});
