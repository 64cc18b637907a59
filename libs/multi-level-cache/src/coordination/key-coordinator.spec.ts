import { KeyCoordinator, type Flight } from './key-coordinator.js';

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Lets flights start: `run` begins on a microtask after `load`/`refresh` returns. */
const started = () => new Promise((resolve) => setImmediate(resolve));

describe('KeyCoordinator', () => {
  it('a flight is joinable before any of its code runs: a loader that calls back in joins its own load', async () => {
    const keys = new KeyCoordinator();
    let inner: Promise<string> | undefined;
    const outer: Promise<string> = keys.load('k', undefined, async () => {
      inner = keys.load('k', undefined, async () => 'second load');
      return 'first load';
    });
    expect(await outer).toBe('first load');
    expect(inner).toBe(outer);
  });

  it('a miss joins the load in flight for its key; another key starts its own', async () => {
    const keys = new KeyCoordinator();
    const gate = deferred<string>();
    let runs = 0;
    const run = () => {
      runs++;
      return gate.promise;
    };
    const a = keys.load('k', undefined, run);
    const b = keys.load('k', undefined, run);
    const other = keys.load('x', undefined, async () => 'x');
    expect(a).toBe(b);
    gate.resolve('v');
    expect(await b).toBe('v');
    expect(await other).toBe('x');
    expect(runs).toBe(1);
    // Settled: the key is idle again, and a new miss starts a new load.
    expect(await keys.load('k', undefined, async () => 'second')).toBe('second');
  });

  it('defect 13: invalidateKeys detaches the load: joiners keep it, later callers start anew, it may not write', async () => {
    const keys = new KeyCoordinator();
    const gate = deferred<string>();
    let first: Flight | undefined;
    const before = keys.load('k', undefined, (flight) => ((first = flight), gate.promise));
    await started();
    keys.invalidateKeys(['k']);
    const after = keys.load('k', undefined, async () => 'new');
    expect(after).not.toBe(before);
    expect(first?.detached).toBe(true);
    gate.resolve('old');
    expect(await before).toBe('old');
    expect(await after).toBe('new');
  });

  it('defect 13: invalidateTags detaches only the flights carrying one of the tags', async () => {
    const keys = new KeyCoordinator();
    const flights: Record<string, Flight> = {};
    const never = new Promise<string>(() => undefined);
    keys.load('red', ['red', 'x'], (f) => ((flights.red = f), never));
    keys.load('blue', ['blue'], (f) => ((flights.blue = f), never));
    keys.load('plain', undefined, (f) => ((flights.plain = f), never));
    await started();
    keys.invalidateTags(['red']);
    expect(flights.red.detached).toBe(true);
    expect(flights.blue.detached).toBe(false);
    expect(flights.plain.detached).toBe(false);
  });

  it('one refresh per key; a miss joins it; an invalidation detaches it', async () => {
    const keys = new KeyCoordinator();
    const gate = deferred<string>();
    let flight: Flight | undefined;
    const refresh = keys.refresh('k', undefined, (f) => ((flight = f), gate.promise));
    expect(refresh).toBeDefined();
    expect(keys.refresh('k', undefined, async () => 'second')).toBeUndefined();
    expect(keys.refreshing('k')).toBe(refresh);
    await started();
    keys.invalidateKeys(['k']);
    expect(flight?.detached).toBe(true);
    expect(keys.refreshing('k')).toBeUndefined();
    gate.resolve('v');
    expect(await refresh).toBe('v');
  });

  it('fences reads that began before an invalidation of their key, their tags, or everything', () => {
    const keys = new KeyCoordinator();
    const start = keys.begin();
    expect(keys.unchangedSince(start, 'k', ['t'])).toBe(true);
    keys.invalidateKeys(['other']);
    expect(keys.unchangedSince(start, 'k', ['t'])).toBe(true);
    keys.invalidateTags(['t']);
    expect(keys.unchangedSince(start, 'k', ['t'])).toBe(false);
    expect(keys.unchangedSince(start, 'k', undefined)).toBe(true);
    const later = keys.begin();
    keys.invalidateKeys(['k']);
    expect(keys.unchangedSince(later, 'k', undefined)).toBe(false);
    const last = keys.begin();
    expect(keys.unchangedSince(last, 'k', ['t'])).toBe(true);
    keys.invalidateAll();
    expect(keys.unchangedSince(last, 'unrelated', undefined)).toBe(false);
    expect(keys.unchangedSince(keys.begin(), 'unrelated', undefined)).toBe(true);
  });

  it('stays bounded: past 10,000 remembered invalidations it fences everything in flight instead', () => {
    const keys = new KeyCoordinator();
    const start = keys.begin();
    for (let i = 0; i <= 10_000; i++) keys.invalidateKeys([`k${i}`]);
    expect(keys.unchangedSince(start, 'never-touched', undefined)).toBe(false);
    expect(keys.unchangedSince(keys.begin(), 'k1', undefined)).toBe(true);
  });
});
