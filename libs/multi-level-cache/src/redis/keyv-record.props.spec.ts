import { defaultDeserialize, defaultSerialize } from '@keyv/serialize';
import * as fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { parseKeyvJson, shiftColonStrings } from './keyv-record.js';

/** JSON values rich in the strings Keyv treats specially: a leading ":", ":base64:…", quotes and backslashes. */
const colonString = fc.oneof(
  fc.string(),
  fc.string().map((s) => `:${s}`),
  fc.string().map((s) => `::${s}`),
  fc.string().map((s) => `:base64:${s}`),
  fc.constantFrom('\\":', ':"\\', '","', '":"', '\\'),
);
const json = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    colonString,
    fc.integer(),
    fc.boolean(),
    fc.constant(null),
    fc.array(tie('value'), { maxLength: 4 }),
    fc.dictionary(colonString, tie('value'), { maxKeys: 4, noNullPrototype: true }),
  ),
})).value;

const escaped = (value: unknown) => {
  const text = JSON.stringify(value);
  return shiftColonStrings(text, true) ?? text;
};

describe('Keyv-compatible escaping of records', () => {
  it('escapes exactly as @keyv/serialize does, so Keyv reads every JSON value back as itself', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(escaped(value)).toBe(defaultSerialize(value));
        expect(defaultDeserialize(escaped(value))).toStrictEqual(value);
        expect(parseKeyvJson(escaped(value))).toStrictEqual(value);
      }),
      propertyParameters(500),
    );
  });

  it('unescaping restores the text this cache wrote', () => {
    fc.assert(
      fc.property(json, (value) => {
        const text = JSON.stringify(value);
        expect(shiftColonStrings(escaped(value), false) ?? escaped(value)).toBe(text);
      }),
      propertyParameters(500),
    );
  });

  it('gives up on text that is not JSON instead of looping (a hostile record)', () => {
    for (const text of ['{"mlc":{"k":1,":abc', '[":', '"']) expect(shiftColonStrings(text, false)).toBeUndefined();
  });
});
