import fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { MAX_JSON_DEPTH, parseJsonBody } from './json-body.parser.js';

const nested = (depth: number) => `${'['.repeat(depth)}${']'.repeat(depth)}`;

describe('parseJsonBody', () => {
  it('parses JSON bodies', () => {
    expect(parseJsonBody('{"email":"a@b.co","items":[{"productId":"1","quantity":2}]}')).toEqual({
      email: 'a@b.co',
      items: [{ productId: '1', quantity: 2 }],
    });
    expect(parseJsonBody(' [1, "x", null] ')).toEqual([1, 'x', null]);
  });

  it(`accepts nesting up to ${MAX_JSON_DEPTH} levels and refuses deeper, naming the limit`, () => {
    expect(parseJsonBody(nested(MAX_JSON_DEPTH))).toBeDefined();
    expect(() => parseJsonBody(nested(MAX_JSON_DEPTH + 1))).toThrow(`nests deeper than ${MAX_JSON_DEPTH} levels`);
    expect(() => parseJsonBody(`{"a":${nested(1_500)}}`)).toThrow(/nests deeper/);
  });

  it('counts depth, not brackets: wide documents of shallow arrays and objects pass, deep objects do not', () => {
    const wide = `[${Array(100).fill('[]').join(',')},${Array(100).fill('{}').join(',')},{"a":[{"b":{}}]}]`;
    expect(parseJsonBody(wide)).toHaveLength(201);
    const deepObject = `${'{"a":'.repeat(MAX_JSON_DEPTH + 1)}1${'}'.repeat(MAX_JSON_DEPTH + 1)}`;
    expect(() => parseJsonBody(deepObject)).toThrow(/nests deeper/);
    expect(parseJsonBody(`${'{"a":'.repeat(MAX_JSON_DEPTH)}1${'}'.repeat(MAX_JSON_DEPTH)}`)).toBeDefined();
  });

  it('counts brackets inside strings (escaped quotes included) as text, not nesting', () => {
    const text = JSON.stringify({ note: '['.repeat(100) + '\\"[[[' + '{'.repeat(100) });
    expect(parseJsonBody(text)).toEqual(JSON.parse(text));
  });

  it.each(['__proto__', 'constructor', 'prototype'])('refuses the key %s anywhere, naming it and where', (key) => {
    expect(() => parseJsonBody(`{"${key}":{}}`)).toThrow(`the key "${key}" (at $)`);
    expect(() => parseJsonBody(`{"a":[{"b":1},{"${key}":1}]}`)).toThrow(`(at $.a[1])`);
  });

  it('refuses empty and malformed bodies with a message saying so', () => {
    expect(() => parseJsonBody('')).toThrow(/empty/);
    expect(() => parseJsonBody('   ')).toThrow(/empty/);
    expect(() => parseJsonBody('{"email": ')).toThrow(/not valid JSON/);
  });

  it.each(['', '{', nested(100), '{"__proto__":1}'])('answers 400 for the refusal of %j', (body) => {
    expect(() => parseJsonBody(body)).toThrow(expect.objectContaining({ status: 400 }));
  });

  it('parses any JSON within the limits exactly as JSON.parse does (property)', () => {
    const safeKey = fc.string().filter((k) => !['__proto__', 'constructor', 'prototype'].includes(k));
    const json = fc.letrec((tie) => ({
      value: fc.oneof(
        { depthSize: 'small' },
        fc.string(),
        fc.double({ noNaN: true, noDefaultInfinity: true }),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie('value'), { maxLength: 4 }),
        fc.dictionary(safeKey, tie('value'), { maxKeys: 4 }),
      ),
    })).value;
    fc.assert(
      fc.property(json, (value) => {
        const text = JSON.stringify(value);
        expect(parseJsonBody(text)).toEqual(JSON.parse(text));
      }),
      propertyParameters(300),
    );
  });
});
