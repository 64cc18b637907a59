import { UnserializablePayloadError } from './errors/unserializable-payload.error.js';
import { toTaskPayload } from './task-payload.js';

describe('toTaskPayload', () => {
  it('returns a deep copy equal to what JSON would deliver', () => {
    const payload = { a: 1, nested: { list: [1, 'two', null, { x: true }] }, when: new Date(0), skip: undefined };
    const copy = toTaskPayload('t', payload) as Record<string, unknown>;
    expect(copy).toEqual(JSON.parse(JSON.stringify(payload)));
    expect(copy).not.toBe(payload);
    expect(copy.nested).not.toBe(payload.nested);
    payload.nested.list.push(5);
    expect((copy.nested as { list: unknown[] }).list).toHaveLength(4);
  });

  it('passes primitives through and turns undefined into null', () => {
    expect(toTaskPayload('t', 'x')).toBe('x');
    expect(toTaskPayload('t', 0)).toBe(0);
    expect(toTaskPayload('t', undefined)).toBeNull();
    expect(toTaskPayload('t', null)).toBeNull();
  });

  it('allows the same object twice when it is not a cycle', () => {
    const shared = { k: 1 };
    expect(toTaskPayload('t', { a: shared, b: shared })).toEqual({ a: { k: 1 }, b: { k: 1 } });
  });

  it.each([
    [{ id: 1n }, /payload\.id is a bigint/],
    [{ fn: () => 1 }, /payload\.fn is a function/],
    [{ s: Symbol('x') }, /payload\.s is a symbol/],
    [{ n: Infinity }, /payload\.n is Infinity/],
    [{ list: [1, undefined] }, /payload\.list\[1\] is undefined/],
    [{ m: new Map() }, /payload\.m is a Map/],
    [{ s: new Set([1]) }, /payload\.s is a Set/],
    [{ b: new Uint8Array(2) }, /payload\.b is a Uint8Array/],
  ])('rejects %o naming the path', (payload, message) => {
    expect(() => toTaskPayload('send-mail', payload)).toThrow(UnserializablePayloadError);
    expect(() => toTaskPayload('send-mail', payload)).toThrow(message);
    expect(() => toTaskPayload('send-mail', payload)).toThrow(/task "send-mail"/);
  });

  it('rejects cycles, and keeps working after an error', () => {
    const a: Record<string, unknown> = { name: 'a' };
    a.self = { back: a };
    expect(() => toTaskPayload('t', a)).toThrow(/payload\.self\.back refers back to itself/);
    expect(toTaskPayload('t', { ok: [{ ok: true }] })).toEqual({ ok: [{ ok: true }] });
  });
});
