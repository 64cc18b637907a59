import { CacheSerializationError } from '../errors/cache-serialization.error.js';
import { encodeArgs, shortenKey } from './cache-key.js';
import { decodeValue, encodeCanonical, encodeValue } from './value-codec.js';

const kindOf = (v: unknown): unknown => (typeof v === 'object' && v !== null ? Object.getPrototypeOf(v) : typeof v);
const roundTrip = (v: unknown) => decodeValue(encodeValue(v));

describe('value codec', () => {
  const table: [string, unknown][] = [
    ['string', 'héllo "q" \\ $x'],
    ['number', 42.5],
    ['negative zero', -0],
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['-Infinity', Number.NEGATIVE_INFINITY],
    ['boolean', false],
    ['null', null],
    ['undefined', undefined],
    ['bigint', 12345678901234567890123n],
    ['Date', new Date('2024-02-29T12:34:56.789Z')],
    ['invalid Date', new Date(Number.NaN)],
    [
      'Map',
      new Map<unknown, unknown>([
        ['a', 1],
        [2, new Date(0)],
        [{ k: 1 }, [1n]],
      ]),
    ],
    ['Set', new Set([1, 'two', 3n])],
    ['Buffer', Buffer.from([0, 1, 2, 255])],
    ['Uint8Array', new Uint8Array([9, 8, 7])],
    ['RegExp', /a+b/gi],
    ['array with undefined and null', [1, undefined, null, 'x']],
    ['object with undefined property', { a: undefined, b: null }],
    ['keys that look like tags', { $D: 1, $$u: 'x', $: 2, nested: { $M: [] } }],
    ['object that looks like a tag', { $u: 0 }],
    [
      'nested',
      {
        user: { id: 1n, born: new Date(1e12), roles: new Set(['a']), meta: new Map([['k', { deep: [new Date(5)] }]]) },
      },
    ],
  ];

  it.each(table)('round-trips %s with its type', (_label, value) => {
    const back = roundTrip(value);
    expect(back).toStrictEqual(value);
    expect(kindOf(back)).toBe(kindOf(value));
    expect(Object.is(back, value) || typeof value === 'object').toBe(true);
  });

  it.each([
    ['$', { $: { id: '1' } }],
    ['$$', { $$: 1 }],
    ['$x', { $x: 'y' }],
    ['$ beside data (xml2js element)', { $: { id: '1' }, _: 'text' }],
    ['$ inside an array', [{ $: 0 }, { $$$: 1 }]],
    ['$ as a Map value', new Map([['k', { $: 1 }]])],
  ])('defect 14: round-trips an object whose only key is %s', (_label, value) => {
    expect(roundTrip(value)).toStrictEqual(value);
  });

  it('keeps an undefined property distinct from a missing one', () => {
    expect('a' in (roundTrip({ a: undefined }) as object)).toBe(true);
    expect('a' in (roundTrip({}) as object)).toBe(false);
  });

  it('decodes __proto__ and constructor keys as plain data, without touching prototypes', () => {
    const text = '{"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}},"x":{"$D":0}}';
    const back = decodeValue(text) as Record<string, unknown>;
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(back)).toBe(Object.prototype);
    expect(Object.hasOwn(back, '__proto__')).toBe(true);
    expect(back.__proto__).toStrictEqual({ polluted: true });
    expect(back.x).toBeInstanceOf(Date);
    // The same through the escaped-key path.
    const escaped = decodeValue('{"__proto__":{"a":1},"$$k":{"$b":"1"}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(escaped)).toBe(Object.prototype);
    expect(escaped.$k).toBe(1n);
    expect(Object.hasOwn(escaped, '__proto__')).toBe(true);
  });

  it.each([
    ['a function', { a: { b: [1, () => 1] } }, '$.a.b[1]', /function/],
    ['a symbol', { s: Symbol('x') }, '$.s', /symbol/],
    ['a class instance', { when: new (class Money {})() }, '$.when', /Money/],
    ['a key with spaces', { 'a b': [() => 1] }, '$["a b"][0]', /function/],
  ])('refuses %s with a path', (_label, value, path, reason) => {
    let error: unknown;
    try {
      encodeValue(value);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(CacheSerializationError);
    expect((error as CacheSerializationError).path).toBe(path);
    expect((error as Error).message).toMatch(reason);
    expect((error as Error).name).toBe('CacheSerializationError');
  });

  it('refuses a circular graph but accepts a shared (non-circular) reference', () => {
    const a: Record<string, unknown> = { x: 1 };
    a.self = { back: a };
    expect(() => encodeValue(a)).toThrow(/circular reference/);
    expect(() => encodeValue(a)).toThrow(CacheSerializationError);
    const shared = { n: 1 };
    expect(roundTrip({ p: shared, q: shared })).toStrictEqual({ p: { n: 1 }, q: { n: 1 } });
  });

  it('encodes canonically: key order, Map and Set order do not matter', () => {
    expect(encodeCanonical({ b: 1, a: { d: 2, c: 3 } })).toBe(encodeCanonical({ a: { c: 3, d: 2 }, b: 1 }));
    expect(
      encodeCanonical(
        new Map([
          ['x', 1],
          ['y', 2],
        ]),
      ),
    ).toBe(
      encodeCanonical(
        new Map([
          ['y', 2],
          ['x', 1],
        ]),
      ),
    );
    expect(encodeCanonical(new Set([2, 1]))).toBe(encodeCanonical(new Set([1, 2])));
    expect(encodeCanonical([null])).not.toBe(encodeCanonical([undefined]));
    expect(encodeCanonical([1])).not.toBe(encodeCanonical(['1']));
    expect(encodeCanonical([1n])).not.toBe(encodeCanonical([1]));
    expect(encodeCanonical([new Date(0)])).not.toBe(encodeCanonical([0]));
  });

  it('gives the same argument text on the primitive fast path as the generic walk', () => {
    for (const args of [['a"b'], [42], [1.5], [true], [false], [], ['']]) {
      expect(encodeArgs(args)).toBe(encodeCanonical(args));
    }
    expect(encodeArgs([-0])).toBe(encodeCanonical([-0]));
    expect(encodeArgs([Number.NaN])).toBe(encodeCanonical([Number.NaN]));
  });

  it('hashes long keys into a short, stable digest', () => {
    const long = encodeArgs(['x'.repeat(500)]);
    const key = shortenKey('A.m:', long);
    expect(key.length).toBeLessThan(100);
    expect(key).toBe(shortenKey('A.m:', long));
    expect(key).not.toBe(shortenKey('A.m:', encodeArgs(['y'.repeat(500)])));
    expect(shortenKey('A.m:', '[1]')).toBe('A.m:[1]');
  });
});
