import { Test, type TestingModule } from '@nestjs/testing';
import { createClient } from '@keyv/redis';
import fc from 'fast-check';
import { setTimeout as sleep } from 'node:timers/promises';
import { propertyParameters, propertyRuns, redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { CachePeer } from './fixtures/cache-peer.driver.js';
import { MultiLevelCacheModule } from './multi-level-cache.module.js';
import { MultiLevelCache } from './multi-level-cache.service.js';

// Random interleavings of get/set/del/wrap/invalidateTags and grace refreshes on two instances sharing one Redis,
// against a reference model. The model is the source of truth the loaders read (`db`); every write bumps a global
// version. The property: once a write has resolved and its bus message has been delivered to every instance (a
// barrier message published after it has been seen), no instance returns a value older than that write. Loads that
// fail (`failing`) answer the fail-safe value, if any: it is held to the same rule (a value removed or replaced by a
// delivered write is never a last known value).

interface Versioned {
  key: string;
  v: number;
}

type Op =
  | { kind: 'set'; on: 0 | 1; key: number; life: Life }
  | { kind: 'del'; on: 0 | 1; key: number }
  | { kind: 'tags'; on: 0 | 1 }
  | { kind: 'wrap'; on: 0 | 1; key: number; delayMs: number; lease: boolean; life: Life; span: number }
  | { kind: 'get'; on: 0 | 1; key: number }
  | { kind: 'failing'; on: 0 | 1; key: number }
  | { kind: 'pause'; ms: number };

/**
 * Short entries expire within a pause and are then served stale while one refresh runs (grace); expiring ones have no
 * grace, so once expired they are only last known values, for the fail-safe of a failing load.
 */
const LIVES = {
  short: { ttl: 15, grace: 60_000 },
  long: { ttl: 60_000, grace: 0 },
  expiring: { ttl: 15, grace: 0 },
};
type Life = keyof typeof LIVES;
const life = fc.constantFrom<Life>('short', 'long', 'expiring');

const KEYS = 3;
const on = fc.constantFrom<0 | 1>(0, 1);
const key = fc.integer({ min: 0, max: KEYS - 1 });
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('set' as const), on, key, life }),
  fc.record({ kind: fc.constant('del' as const), on, key }),
  fc.record({ kind: fc.constant('tags' as const), on }),
  fc.record({
    kind: fc.constant('wrap' as const),
    on,
    key,
    delayMs: fc.integer({ min: 0, max: 4 }),
    lease: fc.boolean(),
    life,
    // > 0: its loader (or the refresh it starts) is held until that many batches later, across their writes.
    span: fc.nat({ max: 2 }),
  }),
  fc.record({ kind: fc.constant('get' as const), on, key }),
  fc.record({ kind: fc.constant('failing' as const), on, key }),
  fc.record({ kind: fc.constant('pause' as const), ms: fc.integer({ min: 0, max: 30 }) }),
);
/** Batches of operations started together; a barrier separates batches. */
const program = fc.array(fc.array(op, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 10 });

const IN_PROCESS_RUNS = 150;
const CROSS_PROCESS_RUNS = 6;
/** Longer runs (`npm run test:props -- --runs N`) get time in proportion, shrinking included. */
const timeoutFor = (ciRuns: number) => Math.max(60_000, propertyRuns(ciRuns) * 1_000);

const open: TestingModule[] = [];
let raw: ReturnType<typeof createClient>;
let namespace: string;

async function instance(): Promise<MultiLevelCache> {
  const mod = await Test.createTestingModule({
    imports: [
      MultiLevelCacheModule.forRoot({
        namespace,
        l2: { url: redisUrl() },
        lease: { pollMs: 5, waitMs: 50 },
        failSafeMaxMs: 60_000,
      }),
    ],
  }).compile();
  open.push(mod);
  await mod.init();
  return mod.get(MultiLevelCache);
}

/** Records the barrier messages an instance has handled (a test probe on the bus listener). */
function barrierProbe(cache: MultiLevelCache): Set<string> {
  const seen = new Set<string>();
  const internals = cache as unknown as { onBusMessage(message: { k?: string[] }): void };
  const original = internals.onBusMessage.bind(cache);
  internals.onBusMessage = (message) => {
    if (message.k?.[0]?.startsWith('__barrier:')) seen.add(message.k[0]);
    original(message);
  };
  return seen;
}

/** A read of `name` returned `got`: it must be a version of that key at least `min` (a miss only where allowed). */
function check(name: string, got: unknown, min: number, what: string, allowMiss: boolean): void {
  if (got === undefined && allowMiss) return;
  const value = got as Versioned | undefined;
  const claim = `${what} of ${name} returned ${JSON.stringify(got)} after a delivered write of version ${min}`;
  expect(value?.key === name && (value?.v ?? -1) >= min ? 'as new as delivered' : claim).toBe('as new as delivered');
}

const JOINED_FAILURE = Symbol('joined a failing load');
const sourceDown = async (): Promise<never> => {
  throw new Error('source down');
};

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

let barrierSeq = 0;
async function barrier(waiters: ((id: string) => Promise<unknown>)[]): Promise<void> {
  const id = `__barrier:${++barrierSeq}`;
  await raw.publish(`${namespace}:bus`, JSON.stringify({ v: 1, o: 'test-barrier', k: [id] }));
  await Promise.all(waiters.map((wait) => wait(id)));
}

async function seenBy(seen: Set<string>, id: string): Promise<void> {
  const t0 = performance.now();
  while (!seen.has(id)) {
    if (performance.now() - t0 > 5_000) throw new Error(`barrier ${id} not delivered within 5 s`);
    await sleep(1);
  }
}

beforeAll(async () => {
  raw = createClient({ url: redisUrl() });
  await raw.connect();
  namespace = uniquePrefix('interleave');
});
afterAll(async () => {
  await Promise.all(open.splice(0).map((m) => m.close()));
  raw.destroy();
});

describe('MultiLevelCache under random interleavings (two instances, one Redis)', () => {
  it(
    'no instance returns a value older than a write that resolved and was delivered',
    async () => {
      const caches = [await instance(), await instance()];
      const probes = caches.map(barrierProbe);
      const waiters = probes.map((seen) => (id: string) => seenBy(seen, id));
      let run = 0;
      await fc.assert(
        fc.asyncProperty(program, async (batches) => {
          const prefix = `r${++run}:`;
          const keyName = (k: number) => `${prefix}k${k}`;
          const tag = `${prefix}tag`;
          let version = 0;
          const db = new Map<string, number>();
          /** The oldest version a read may return, per key. */
          const floor = new Map<string, number>();
          const source = (name: string): Versioned => ({ key: name, v: db.get(name) ?? 0 });

          // A loader held across batches is released once the batch it waits for has started all its operations.
          const started = batches.map(() => deferred());
          const due = batches.map((): Promise<unknown>[] => []);
          const last = batches.length - 1;
          for (const [j, batch] of batches.entries()) {
            const before = new Map(floor);
            const written = new Map<string, number[]>();
            const wrote = (name: string, v: number) => written.set(name, [...(written.get(name) ?? []), v]);
            const perform = async (o: Op): Promise<unknown> => {
              if (o.kind === 'pause') return sleep(o.ms);
              const cache = caches[o.on];
              if (o.kind === 'tags') {
                for (let k = 0; k < KEYS; k++) {
                  db.set(keyName(k), ++version);
                  wrote(keyName(k), version);
                }
                return cache.invalidateTags([tag]);
              }
              const name = keyName(o.key);
              const min = before.get(name) ?? 0;
              switch (o.kind) {
                case 'set': {
                  const v = ++version;
                  db.set(name, v);
                  wrote(name, v);
                  return cache.set(name, { key: name, v }, { ...LIVES[o.life], tags: [tag] });
                }
                case 'del':
                  db.set(name, ++version);
                  wrote(name, version);
                  return cache.del(name);
                case 'wrap': {
                  const release = started[Math.min(j + o.span, last)].promise;
                  const got = await cache
                    .wrap(
                      name,
                      async () => {
                        // The source is read when the load starts; a slow load returns what it read then.
                        const value = source(name);
                        await (o.span > 0 ? release : sleep(o.delayMs));
                        return value;
                      },
                      { ...LIVES[o.life], tags: [tag], lease: o.lease },
                    )
                    // Joining a concurrent `failing` load of the key shares its outcome: its error is allowed.
                    .catch((error: unknown) => {
                      if ((error as Error).message === 'source down') return JOINED_FAILURE;
                      throw error;
                    });
                  if (got === JOINED_FAILURE) return;
                  return check(name, got, min, `wrap on instance ${o.on} (batch ${j})`, false);
                }
                case 'get':
                  return check(name, await cache.get(name), min, `get on instance ${o.on} (batch ${j})`, true);
                case 'failing': {
                  // The source is down: the error, or the last known value (never one a delivered write replaced).
                  const got = await cache.wrap(name, sourceDown, { tags: [tag] }).catch(() => undefined);
                  return check(name, got, min, `fail-safe wrap on instance ${o.on} (batch ${j})`, true);
                }
              }
            };
            // A wrap may join a load held for later batches, so wraps are only awaited at the end (never a deadlock);
            // writes and gets never wait for a loader.
            for (const o of batch) due[o.kind === 'wrap' || o.kind === 'failing' ? last : j].push(perform(o));
            started[j].resolve();
            await Promise.all(due[j]);
            // Concurrent writes of one key may land in either order: the batch guarantees the oldest of them.
            for (const [name, versions] of written)
              floor.set(name, Math.max(floor.get(name) ?? 0, Math.min(...versions)));
            await barrier(waiters);
          }
        }),
        propertyParameters(IN_PROCESS_RUNS),
      );
      // Every generated program ran (a passing fc.assert runs exactly numRuns).
      expect(run).toBe(propertyRuns(IN_PROCESS_RUNS));
    },
    timeoutFor(IN_PROCESS_RUNS),
  );
});

describe('MultiLevelCache under random interleavings across processes', () => {
  const peers: CachePeer[] = [];
  afterAll(async () => {
    await Promise.all(peers.splice(0).map((p) => p.stop()));
  });

  it(
    'a write on either process is never followed by an older read on the other, once delivered',
    async () => {
      const peer = await CachePeer.start({ REDIS_URL: redisUrl(), NAMESPACE: namespace });
      peers.push(peer);
      const local = await instance();
      const localSeen = barrierProbe(local);
      const waiters = [(id: string) => seenBy(localSeen, id), (id: string) => peer.send('barrier', { key: id })];
      type Step = { kind: 'set' | 'del' | 'get' | 'wrap'; on: 0 | 1; key: number };
      const step: fc.Arbitrary<Step> = fc.record({
        kind: fc.constantFrom<Step['kind']>('set', 'del', 'get', 'wrap'),
        on,
        key: fc.integer({ min: 0, max: 1 }),
      });
      let run = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(step, { minLength: 2, maxLength: 12 }), async (steps) => {
          const prefix = `mp${++run}:`;
          let version = 0;
          const db = new Map<string, number>();
          const floor = new Map<string, number>();
          for (const s of steps) {
            const name = `${prefix}k${s.key}`;
            const min = floor.get(name) ?? 0;
            let got: unknown;
            if (s.kind === 'set' || s.kind === 'del') {
              const v = ++version;
              db.set(name, v);
              if (s.kind === 'set') {
                if (s.on === 0) await local.set(name, { key: name, v });
                else await peer.send('set', { key: name, value: { key: name, v } });
              } else if (s.on === 0) await local.del(name);
              else await peer.send('del', { key: name });
              floor.set(name, v);
              await barrier(waiters);
              continue;
            }
            const loaded = { key: name, v: db.get(name) ?? 0 };
            if (s.kind === 'get')
              got = s.on === 0 ? await local.get(name) : ((await peer.send('get', { key: name })) ?? undefined);
            else
              got =
                s.on === 0
                  ? await local.wrap(name, async () => loaded)
                  : await peer.send('wrap', { key: name, value: loaded });
            check(name, got, min, `${s.kind} on ${s.on === 0 ? 'this process' : 'the peer'}`, s.kind === 'get');
          }
        }),
        propertyParameters(CROSS_PROCESS_RUNS),
      );
      // Every generated program ran (a passing fc.assert runs exactly numRuns).
      expect(run).toBe(propertyRuns(CROSS_PROCESS_RUNS));
    },
    timeoutFor(CROSS_PROCESS_RUNS),
  );
});
