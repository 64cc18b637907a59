import fc from 'fast-check';
import { propertyParameters } from '../../../test/harness/index.js';
import { clonePayload, toTaskPayload } from './task-payload.js';

/** Keys that break naive copies: prototype setters, shadowed methods, JSON-ish markers. */
const key = fc.oneof(
  fc.constantFrom('__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', '$', '$$', ''),
  fc.string({ maxLength: 6 }),
);

/** An object built with defineProperty, as JSON.parse builds it: an own `__proto__` key is data, not the prototype. */
function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const obj: Record<string, unknown> = {};
  for (const [k, v] of entries)
    Object.defineProperty(obj, k, { value: v, enumerable: true, writable: true, configurable: true });
  return obj;
}

const { json } = fc.letrec<{ json: unknown }>((tie) => ({
  json: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.string({ maxLength: 8 }),
    fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
    fc.array(tie('json'), { maxLength: 4 }),
    fc.array(fc.tuple(key, tie('json')), { maxLength: 5 }).map(objectOf),
  ),
}));

/** A chain `{ next: { next: … } }` or `[[[…]]]` deeper than any everyday payload. */
const deep = fc.tuple(fc.integer({ min: 50, max: 400 }), fc.boolean(), json).map(([depth, asArray, leaf]) => {
  let value: unknown = leaf;
  for (let i = 0; i < depth; i++) value = asArray ? [value] : objectOf([['__proto__', value]]);
  return value;
});

/** Every object and array node of a JSON-like value. */
function nodes(value: unknown, out: object[] = []): object[] {
  if (value === null || typeof value !== 'object') return out;
  out.push(value);
  for (const child of Object.values(value)) nodes(child, out);
  return out;
}

describe('task payload codec (properties)', () => {
  it('round-trips any JSON value unchanged, as JSON.parse would deliver it, with plain prototypes', () => {
    fc.assert(
      fc.property(fc.oneof(json, deep), (value) => {
        const copy = toTaskPayload('t', value);
        expect(JSON.stringify(copy)).toBe(JSON.stringify(value));
        expect(copy).toEqual(JSON.parse(JSON.stringify(value)));
        for (const node of nodes(copy)) {
          expect(Object.getPrototypeOf(node)).toBe(Array.isArray(node) ? Array.prototype : Object.prototype);
        }
        expect(clonePayload(copy)).toEqual(copy);
      }),
      propertyParameters(300),
    );
  });

  it('copies are independent: mutating one changes neither the original nor another copy', () => {
    fc.assert(
      fc.property(json, (value) => {
        const before = JSON.stringify(value);
        const stored = toTaskPayload('t', value);
        const attempt = clonePayload(stored);
        const storedNodes = new Set(nodes(stored));
        for (const node of nodes(attempt)) expect(storedNodes.has(node)).toBe(false);
        for (const node of nodes(attempt)) {
          if (Array.isArray(node)) node.push('mutated');
          else (node as Record<string, unknown>).mutated = true;
        }
        expect(JSON.stringify(stored)).toBe(before);
        expect(JSON.stringify(value)).toBe(before);
      }),
      propertyParameters(300),
    );
  });
});
