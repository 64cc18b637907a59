import { Logger } from '@nestjs/common';
import * as fc from 'fast-check';
import { propertyParameters, propertyRuns } from '../../../test/harness/index.js';
import { ManualClock } from './clock/manual-clock.js';
import { NodeDiscovery } from './discovery/node-discovery.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { NoAvailableNodeError } from './errors/no-available-node.error.js';
import type { BuiltinStrategyName, LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import type { NodeConfig } from './interfaces/node-config.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import type { UpstreamNode } from './node/upstream-node.js';
import { seededRandom } from './random/random-source.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';

/**
 * Model-based test of the balancer's state machine on a ManualClock: random sequences of picks, executes whose tries
 * the test settles (or lets time out), reports, clock advances, health checks, addNode/removeNode and discovery
 * changes, for every strategy. The reference model owns membership (who is a member, who drains, when a drain ends);
 * the invariants cover what picks may return, in-flight accounting, finiteness of the health model, and that every
 * promise settles once the test lets go of every call.
 */

/** Runs per strategy in `npm test` (six strategies: about 2 s in all on this 2-core machine). */
const CI_RUNS = 150;
const STRATEGIES = Object.keys(BUILTIN_STRATEGIES) as BuiltinStrategyName[];
/** Ids a discovery provider may return; `s*` ids are static (options or addNode). */
const DISCOVERY_POOL = ['d0', 'd1', 'd2', 'd3'];
const STATIC_POOL = ['s0', 's1', 's2', 's3', 's4'];
const KEYS = [undefined, 'user-1', 'user-2', '', '__proto__'];

class ScriptedDiscovery extends NodeDiscovery {
  override readonly refreshIntervalMs = 1_000;
  list: unknown[] = [];

  async resolve(): Promise<NodeConfig[]> {
    return this.list as NodeConfig[];
  }
}

interface Try {
  node: UpstreamNode;
  signal: AbortSignal;
  resolve: (value: string) => void;
  reject: (error: Error) => void;
  settledByTest: boolean;
}

interface Call {
  settled: boolean;
  controller: AbortController;
}

interface MemberModel {
  discovered: boolean;
  draining: boolean;
  drainDeadline: number;
}

interface Config {
  strategy: BuiltinStrategyName;
  initial: number;
  panicThreshold: number;
  timeoutMs: number | undefined;
  retries: number;
  consecutiveFailures: number;
  baseEjectionMs: number;
  maxEjectionPercent: number;
  probeTimeoutMs: number;
  slowStartMs: number;
}

/** The system under test plus the reference model of membership. */
class World {
  readonly clock = new ManualClock();
  readonly discovery = new ScriptedDiscovery();
  readonly healthy = new Map<string, boolean>();
  readonly lb: LoadBalancer;
  readonly tries: Try[] = [];
  readonly calls: Call[] = [];
  readonly removals: Array<{ settled: boolean; removed?: boolean; expected: boolean }> = [];
  /** Violations seen inside promise callbacks, where a throwing expect would only be an unhandled rejection. */
  readonly violations: string[] = [];
  /** Node objects no longer members (their id may come back as a new object). */
  readonly removed = new Set<UpstreamNode>();
  readonly known = new Set<UpstreamNode>();
  readonly members = new Map<string, MemberModel>();

  constructor(readonly config: Config) {
    const options: LoadBalancerOptions & { name: string } = {
      name: 'model',
      nodes: STATIC_POOL.slice(0, config.initial).map((id, i) => ({ id, host: 's', port: 100 + i, weight: i + 1 })),
      strategy: config.strategy,
      clock: this.clock,
      random: seededRandom(config.initial * 7 + config.retries),
      panicThreshold: config.panicThreshold,
      timeoutMs: config.timeoutMs,
      retries: config.retries,
      outlierDetection: {
        consecutiveFailures: config.consecutiveFailures,
        baseEjectionMs: config.baseEjectionMs,
        maxEjectionPercent: config.maxEjectionPercent,
        probeTimeoutMs: config.probeTimeoutMs,
      },
      slowStart: config.slowStartMs === 0 ? false : { windowMs: config.slowStartMs, minFactor: 0.2 },
      discovery: this.discovery,
      healthCheck: {
        unhealthyThreshold: 1,
        healthyThreshold: 1,
        checker: { check: async (node) => this.healthy.get(node.id) ?? true },
      },
    };
    this.lb = new LoadBalancer(options);
    for (const id of STATIC_POOL.slice(0, config.initial)) {
      this.members.set(id, { discovered: false, draining: false, drainDeadline: Number.POSITIVE_INFINITY });
    }
    this.lb.on('node-removed', ({ node }) => {
      for (const object of this.known) if (object.id === node.id) this.removed.add(object);
    });
  }

  get activeCount(): number {
    return [...this.members.values()].filter((m) => !m.draining).length;
  }

  released(t: Try): boolean {
    return t.settledByTest || t.signal.aborted;
  }

  /** In flight on the current member object with this id, by the test's own bookkeeping. */
  expectedInFlight(id: string): number {
    return this.tries.filter((t) => t.node.id === id && !this.removed.has(t.node) && !this.released(t)).length;
  }

  /** A node handed out by pick() or to fn must be a selectable member at that moment. */
  assertSelectable(node: UpstreamNode): void {
    this.known.add(node);
    invariant(!this.removed.has(node), `picked ${node.id} after it was removed`);
    const snapshot = this.lb.nodes().find((n) => n.id === node.id);
    invariant(snapshot !== undefined, `picked ${node.id}, which nodes() does not list`);
    invariant(snapshot!.state !== 'draining', `picked ${node.id} while it drains`);
    invariant(this.members.get(node.id)?.draining === false, `picked ${node.id}, not an active member in the model`);
    invariant(snapshot!.state !== 'ejected' || this.lb.inPanic, `picked ejected ${node.id} outside panic mode`);
  }

  startDrain(id: string, drainTimeoutMs: number | undefined): void {
    const member = this.members.get(id)!;
    member.draining = true;
    if (drainTimeoutMs !== undefined) {
      member.drainDeadline = Math.min(member.drainDeadline, this.clock.now() + drainTimeoutMs);
    }
  }

  /**
   * Model side of a drain's end: nothing in flight on the node, or its deadline passed while the clock moved (a
   * ManualClock fires timers only when advanced, even a 0 ms one).
   */
  settleDrains(clockMoved: boolean): void {
    for (const [id, member] of this.members) {
      if (!member.draining) continue;
      const deadlinePassed = clockMoved && member.drainDeadline <= this.clock.now();
      if (this.expectedInFlight(id) === 0 || deadlinePassed) this.members.delete(id);
    }
  }

  async flush(clockMoved = false): Promise<void> {
    for (let i = 0; i < 3; i++) await new Promise((resolve) => setImmediate(resolve));
    this.settleDrains(clockMoved);
  }

  /** Invariants that hold after every command. */
  check(): void {
    invariant(this.violations.length === 0, this.violations.join('; '));
    const snapshots = this.lb.nodes();
    const ids = snapshots
      .map((n) => n.id)
      .toSorted()
      .join(',');
    const modelIds = [...this.members.keys()].toSorted().join(',');
    invariant(ids === modelIds, `nodes() lists [${ids}], the model has [${modelIds}]`);
    for (const n of snapshots) {
      const draining = this.members.get(n.id)!.draining;
      invariant((n.state === 'draining') === draining, `${n.id} is ${n.state}; model draining=${draining}`);
      const inFlight = this.expectedInFlight(n.id);
      invariant(n.inFlight === inFlight, `${n.id} has inFlight ${n.inFlight}; ${inFlight} tries are running`);
      invariant(n.healthScore >= 0 && n.healthScore <= 1, `${n.id} health score ${n.healthScore}`);
      invariant(Number.isFinite(n.latencyMs) && n.latencyMs >= 0, `${n.id} latency ${n.latencyMs}`);
      invariant(n.errorRate >= 0 && n.errorRate <= 1, `${n.id} error rate ${n.errorRate}`);
      invariant(n.slowStartFactor > 0 && n.slowStartFactor <= 1, `${n.id} slow-start factor ${n.slowStartFactor}`);
    }
  }

  /** Lets go of everything: settles every try, runs every timer, then every promise must have settled. */
  async finish(): Promise<void> {
    for (let round = 0; round < 10 && this.tries.some((t) => !this.released(t)); round++) {
      for (const t of this.tries) {
        if (this.released(t)) continue;
        t.settledByTest = true;
        t.resolve('done');
      }
      await this.flush();
    }
    this.clock.advance(1_000_000);
    await this.flush(true);
    invariant(
      this.tries.every((t) => this.released(t)),
      'a try is still running after every try was settled',
    );
    invariant(
      this.calls.every((c) => c.settled),
      'an execute() promise never settled',
    );
    invariant(
      this.removals.every((r) => r.settled && r.removed === r.expected),
      'a removeNode() promise never settled, or resolved to the wrong value',
    );
    for (const n of this.lb.nodes()) invariant(n.inFlight === 0, `${n.id} keeps inFlight ${n.inFlight} at the end`);
    this.check();
    this.lb.close();
  }
}

/** Fails the run naming the broken invariant; fast-check then shrinks and prints the case with its seed. */
function invariant(holds: boolean, message: string): void {
  if (!holds) throw new Error(`Invariant broken: ${message}`);
}

function thrown(run: () => unknown): unknown {
  try {
    run();
  } catch (error) {
    return error;
  }
  return undefined;
}

type Command = fc.AsyncCommand<object, World>;
const command = (name: string, run: (w: World) => Promise<void> | void, movesClock = false): Command => ({
  check: () => true,
  async run(_model, world) {
    await run(world);
    await world.flush(movesClock);
    world.check();
  },
  toString: () => name,
});

const pickCommand = fc.constantFrom(...KEYS).map((key) =>
  command(`pick(${JSON.stringify(key)})`, (w) => {
    let picked: UpstreamNode | undefined;
    try {
      picked = w.lb.pick(key);
    } catch (error) {
      invariant(error instanceof NoAvailableNodeError, `pick threw ${String(error)}`);
      // Only an empty balancer, or one with panic mode off, may have nothing to pick.
      invariant(w.activeCount === 0 || w.config.panicThreshold === 0, 'no node to pick with active members, panic on');
      return;
    }
    invariant(w.activeCount > 0, `picked ${picked.id} with no active member in the model`);
    w.assertSelectable(picked);
  }),
);

const executeCommand = fc
  .record({ key: fc.constantFrom(...KEYS), retries: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) })
  .map(({ key, retries }) =>
    command(`execute(key=${JSON.stringify(key)}, retries=${String(retries)})`, (w) => {
      const controller = new AbortController();
      const call: Call = { settled: false, controller };
      w.calls.push(call);
      const activeBefore = w.activeCount;
      void w.lb
        .execute(
          (node, signal) => {
            w.assertSelectable(node);
            return new Promise<string>((resolve, reject) => {
              w.tries.push({ node, signal, resolve, reject, settledByTest: false });
            });
          },
          { key, retries, signal: controller.signal },
        )
        .then(
          () => undefined,
          (error: unknown) => {
            if (error instanceof NoAvailableNodeError && activeBefore > 0 && w.config.panicThreshold > 0) {
              w.violations.push(`execute found no node with ${activeBefore} active member(s) and panic mode on`);
            }
          },
        )
        .finally(() => (call.settled = true));
    }),
  );

const settleCommand = fc
  .record({ index: fc.nat(), outcome: fc.constantFrom('success', 'failure') })
  .map(({ index, outcome }) =>
    command(`settle try #${index} with ${outcome}`, (w) => {
      const open = w.tries.filter((t) => !w.released(t));
      if (open.length === 0) return;
      const t = open[index % open.length];
      t.settledByTest = true;
      if (outcome === 'success') t.resolve('ok');
      else t.reject(new Error('upstream failed'));
    }),
  );

const abortCommand = fc.nat().map((index) =>
  command(`abort call #${index}`, (w) => {
    const open = w.calls.filter((c) => !c.settled);
    if (open.length > 0) open[index % open.length].controller.abort(new Error('caller gave up'));
  }),
);

const reportCommand = fc
  .record({
    id: fc.constantFrom(...STATIC_POOL, ...DISCOVERY_POOL, 'unknown'),
    latencyMs: fc.oneof(
      fc.integer({ min: 0, max: 2_000 }),
      fc.constant(2_147_483_647),
      fc.double({ min: 0, max: 5, noNaN: true }),
    ),
    error: fc.constantFrom(undefined, true, false, null),
  })
  .map(({ id, latencyMs, error }) =>
    command(`report(${id}, ${latencyMs}, ${String(error)})`, (w) => {
      const known = w.lb.report(id, { latencyMs, error });
      invariant(known === w.members.has(id), `report(${id}) returned ${known}`);
    }),
  );

const badReportCommand = fc
  .constantFrom<[string, unknown]>(
    ['latency NaN', { latencyMs: Number.NaN }],
    ['latency -1', { latencyMs: -1 }],
    ['latency Infinity', { latencyMs: Number.POSITIVE_INFINITY }],
    ['error "false"', { latencyMs: 1, error: 'false' }],
  )
  .map(([label, outcome]) =>
    command(`report(bad: ${label})`, (w) => {
      const id = [...w.members.keys()][0] ?? 's0';
      const before = w.lb.nodes().map((n) => n.requests);
      const error = thrown(() => w.lb.report(id, outcome as never));
      invariant(error instanceof InvalidLoadBalancerArgumentError, `report(${label}) threw ${String(error)}`);
      invariant(
        w.lb
          .nodes()
          .map((n) => n.requests)
          .join() === before.join(),
        `report(${label}) was recorded`,
      );
    }),
  );

const advanceCommand = fc
  .oneof(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 200, max: 6_000 }))
  .map((ms) => command(`advance(${ms})`, (w) => w.clock.advance(ms), true));

const healthCommand = fc
  .record({ id: fc.constantFrom(...STATIC_POOL, ...DISCOVERY_POOL), healthy: fc.boolean() })
  .map(({ id, healthy }) =>
    command(`health ${id}=${healthy}, run checks`, async (w) => {
      w.healthy.set(id, healthy);
      await w.lb.runHealthChecks();
    }),
  );

const addNodeCommand = fc
  .record({ id: fc.constantFrom(...STATIC_POOL, ...DISCOVERY_POOL), valid: fc.boolean() })
  .map(({ id, valid }) =>
    command(`addNode(${id}${valid ? '' : ', port 0'})`, (w) => {
      const config = { id, host: 'added', port: valid ? 7_000 : 0 };
      if (!valid || w.members.has(id)) {
        const error = thrown(() => w.lb.addNode(config));
        invariant(error instanceof InvalidLoadBalancerOptionsError, `addNode(${id}) threw ${String(error)}`);
        return;
      }
      invariant(w.lb.addNode(config).id === id, `addNode(${id}) kept another id`);
      w.members.set(id, { discovered: false, draining: false, drainDeadline: Number.POSITIVE_INFINITY });
    }),
  );

const removeNodeCommand = fc
  .record({
    id: fc.constantFrom(...STATIC_POOL, ...DISCOVERY_POOL, 'unknown'),
    drainTimeoutMs: fc.option(fc.integer({ min: 0, max: 3_000 }), { nil: undefined }),
  })
  .map(({ id, drainTimeoutMs }) =>
    command(`removeNode(${id}, drainTimeoutMs=${String(drainTimeoutMs)})`, (w) => {
      const wasMember = w.members.has(id);
      const removal: World['removals'][number] = { settled: false, expected: wasMember };
      w.removals.push(removal);
      void w.lb.removeNode(id, { drainTimeoutMs }).then((removed) => {
        removal.removed = removed;
        removal.settled = true;
      });
      if (wasMember) w.startDrain(id, drainTimeoutMs);
    }),
  );

type Entry = { kind: 'valid' | 'port0' | 'nan-weight' | 'null'; id: string };
const discoveryCommand = fc
  .uniqueArray(
    fc.record({
      kind: fc.constantFrom<Entry['kind']>('valid', 'valid', 'valid', 'port0', 'nan-weight', 'null'),
      id: fc.constantFrom(...DISCOVERY_POOL),
    }),
    { selector: (e) => e.id, maxLength: DISCOVERY_POOL.length },
  )
  .map((entries) =>
    command(`discovery → ${entries.map((e) => `${e.id}:${e.kind}`).join(',') || '(empty)'}`, async (w) => {
      w.discovery.list = entries.map((e) =>
        e.kind === 'null'
          ? null
          : {
              id: e.id,
              host: 'd',
              port: e.kind === 'port0' ? 0 : 8_000,
              weight: e.kind === 'nan-weight' ? Number.NaN : 1,
            },
      );
      await w.lb.refreshDiscovery();
      // Model: valid new entries join; discovered members named by no entry (valid or not) drain.
      const named = new Set(entries.filter((e) => e.kind !== 'null').map((e) => e.id));
      for (const e of entries) {
        if (e.kind === 'valid' && !w.members.has(e.id)) {
          w.members.set(e.id, { discovered: true, draining: false, drainDeadline: Number.POSITIVE_INFINITY });
        }
      }
      for (const [id, member] of w.members) {
        if (member.discovered && !member.draining && !named.has(id)) w.startDrain(id, undefined);
      }
    }),
  );

const configArbitrary = (strategy: BuiltinStrategyName): fc.Arbitrary<Config> =>
  fc.record({
    strategy: fc.constant(strategy),
    initial: fc.integer({ min: 0, max: 4 }),
    panicThreshold: fc.constantFrom(0, 0.5),
    timeoutMs: fc.option(fc.integer({ min: 50, max: 1_000 }), { nil: undefined }),
    retries: fc.integer({ min: 0, max: 2 }),
    consecutiveFailures: fc.integer({ min: 1, max: 4 }),
    baseEjectionMs: fc.integer({ min: 100, max: 2_000 }),
    maxEjectionPercent: fc.constantFrom(50, 100),
    probeTimeoutMs: fc.integer({ min: 100, max: 3_000 }),
    slowStartMs: fc.constantFrom(0, 500, 5_000),
  });

const commands = fc.commands(
  [
    pickCommand,
    executeCommand,
    executeCommand,
    settleCommand,
    settleCommand,
    abortCommand,
    reportCommand,
    badReportCommand,
    advanceCommand,
    healthCommand,
    addNodeCommand,
    removeNodeCommand,
    discoveryCommand,
  ],
  { maxCommands: 40, size: 'max' },
);

describe('load balancer state machine (model-based)', () => {
  beforeAll(() => {
    // Discovery warnings and strategy logs are expected here; keep the output readable.
    vi.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
  });
  afterAll(() => vi.restoreAllMocks());

  it.each(STRATEGIES)(
    '%s: picks stay selectable, in-flight exact, health finite, membership consistent; every promise settles',
    async (strategy) => {
      let commandsRun = 0;
      await fc.assert(
        fc.asyncProperty(configArbitrary(strategy), commands, async (config, cmds) => {
          const world = new World(config);
          world.check();
          await fc.asyncModelRun(() => ({ model: {}, real: world }), cmds);
          await world.finish();
          commandsRun += [...cmds].length;
        }),
        propertyParameters(CI_RUNS),
      );
      // Guards against a generator change that silently produces empty sequences.
      expect(commandsRun).toBeGreaterThan(propertyRuns(CI_RUNS) * 10);
    },
  );
});
