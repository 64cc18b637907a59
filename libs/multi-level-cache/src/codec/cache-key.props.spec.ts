import fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { cacheableValue, DtoA, DtoB } from '../fixtures/cacheable-value.arbitrary.js';
import { encodeArgs } from './cache-key.js';
import { cachedMethodKey } from './cached-method-key.js';
import { encodeCanonical } from './value-codec.js';

class Target {}
const keyOf = (args: readonly unknown[]): string => cachedMethodKey(Target, 'find', args);

/** Argument lists as `@Cached` sees them: anything keyable, class instances of unregistered classes included. */
const argumentList = fc.array(cacheableValue({ nullPrototype: false, unregistered: true }), { maxLength: 3 });

/** Few, look-alike values, so that random pairs often hold the same data or nearly. */
const lookAlikes = fc.array(
  fc
    .constantFrom<() => unknown>(
      () => 0,
      () => -0,
      () => '0',
      () => null,
      () => undefined,
      () => [],
      () => ({}),
      () => [0],
      () => ({ a: 0 }),
      () => new DtoA(0),
      () => new DtoB(0),
      () => new Set([0]),
    )
    .map((make) => make()),
  { maxLength: 2 },
);

/** A deep copy with every object's keys, Map entries and Set members in reverse order. */
function reordered(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Date) return new Date(v.getTime());
  if (v instanceof RegExp) return new RegExp(v.source, v.flags);
  if (Buffer.isBuffer(v)) return Buffer.from(v);
  if (v instanceof Uint8Array) return new Uint8Array(v);
  if (v instanceof Map) return new Map([...v].reverse().map(([k, x]) => [reordered(k), reordered(x)]));
  if (v instanceof Set) return new Set([...v].reverse().map(reordered));
  if (Array.isArray(v)) {
    const out: unknown[] = Array.from({ length: v.length });
    for (let i = 0; i < v.length; i++)
      if (i in v) out[i] = reordered(v[i]);
      else delete out[i];
    return out;
  }
  const out = Object.create(Object.getPrototypeOf(v) as object | null) as object;
  for (const k of Object.keys(v).reverse())
    Object.defineProperty(out, k, {
      value: reordered((v as Record<string, unknown>)[k]),
      writable: true,
      enumerable: true,
      configurable: true,
    });
  return out;
}

/** Same data whatever the order of keys, entries and members; same types; -0 is not 0. */
function sameData(a: unknown, b: unknown): boolean {
  if (typeof a !== 'object' || a === null || typeof b !== 'object' || b === null) return Object.is(a, b);
  if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
  if (a instanceof Date) return Object.is(a.getTime(), (b as Date).getTime());
  if (a instanceof RegExp) return String(a) === String(b);
  if (a instanceof Uint8Array) return Buffer.compare(a, b as Uint8Array) === 0;
  if (a instanceof Map || a instanceof Set) {
    const [x, y] = [[...a], [...(b as Map<unknown, unknown> | Set<unknown>)]];
    return (
      x.length === y.length &&
      x.every((p) => y.some((q) => sameData(p, q))) &&
      y.every((q) => x.some((p) => sameData(p, q)))
    );
  }
  if (Array.isArray(a))
    return (
      a.length === (b as unknown[]).length &&
      a.every((_, i) => i in b === i in a && sameData(a[i], (b as unknown[])[i])) &&
      Object.keys(a).length === Object.keys(b).length
    );
  const [ka, kb] = [Object.keys(a), Object.keys(b)];
  return (
    ka.length === kb.length &&
    ka.every(
      (k) => Object.hasOwn(b, k) && sameData((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]),
    )
  );
}

/** `[<hole>, 1]`: a hole is not an undefined element. */
const holeThenOne: unknown[] = [];
holeThenOne[1] = 1;

/** Pairs of arguments that look alike but are different calls. */
const nearMiss = fc.constantFrom<[unknown, unknown]>(
  ['1', 1],
  [[], {}],
  [null, undefined],
  [0, -0],
  [1n, 1],
  [new Date(0), 0],
  [new Date(Number.NaN), null],
  [new DtoA(1), new DtoB(1)],
  [new DtoA(1), { v: 1 }],
  [[1], new Set([1])],
  [{ a: 1 }, new Map([['a', 1]])],
  [holeThenOne, [undefined, 1]],
  [{ $: 1 }, { $$: 1 }],
  [{ a: undefined }, {}],
  [Buffer.from([1]), new Uint8Array([1])],
  ['', []],
  [/a/g, /a/],
);

describe('@Cached key properties', () => {
  it('is deterministic and ignores the order of object keys, Map entries and Set members', () => {
    fc.assert(
      fc.property(argumentList, (args) => {
        const key = keyOf(args);
        expect(keyOf(args)).toBe(key);
        expect(keyOf(args.map(reordered))).toBe(key);
        // The single-primitive fast path gives the same text as the generic walk.
        expect(encodeArgs(args)).toBe(encodeCanonical(args));
      }),
      propertyParameters(500),
    );
  });

  it('is injective: two argument lists share a key only when they hold the same data and types', () => {
    fc.assert(
      fc.property(fc.oneof(argumentList, lookAlikes), fc.oneof(argumentList, lookAlikes), (a, b) => {
        expect(keyOf(a) === keyOf(b)).toBe(sameData(a, b));
      }),
      propertyParameters(500),
    );
  });

  it('tells near misses apart wherever they sit in the arguments', () => {
    fc.assert(
      fc.property(nearMiss, argumentList, fc.nat(3), fc.boolean(), ([x, y], context, at, nested) => {
        const place = (v: unknown) => {
          const args = [...context];
          args.splice(Math.min(at, args.length), 0, nested ? { inner: [v] } : v);
          return args;
        };
        expect(keyOf(place(x))).not.toBe(keyOf(place(y)));
      }),
      propertyParameters(500),
    );
  });
});
