import { CacheSerializationError } from '../errors/cache-serialization.error.js';

/*
 * A type-tagged JSON encoding. Plain JSON values encode as themselves; everything JSON would lose or change is written
 * as a one-key object whose key is `$` plus one letter (`{"$D":1700000000000}` is a Date). User object keys that start
 * with `$` are escaped with one more `$`, so a tag can never be forged by data. Decoding builds own data properties
 * only, so `__proto__` and `constructor` keys stay plain data.
 */

const DOLLAR = 36;

/** Thrown inside the walk; each level adds its path segment on the way out. */
class Unencodable {
  readonly segments: (string | number)[] = [];
  constructor(readonly reason: string) {}
}

/** Encodes a value for storage (object keys in insertion order). */
export function encodeValue(value: unknown): string {
  return run(value, false);
}

/** Encodes a value canonically (sorted object keys, sorted Map entries and Set members): equal inputs, equal text. */
export function encodeCanonical(value: unknown): string {
  return run(value, true);
}

function run(value: unknown, canonical: boolean): string {
  try {
    return encode(value, canonical, []);
  } catch (error) {
    if (!(error instanceof Unencodable)) throw error;
    const path = formatPath(error.segments);
    throw new CacheSerializationError(
      `Cannot cache the value at ${path}: ${error.reason}. Cache plain data (objects, arrays, strings, numbers, ` +
        'booleans, null, undefined, Date, BigInt, Map, Set, Buffer, Uint8Array, RegExp) without cycles, or map it to ' +
        'such data first. Nothing was written.',
      path,
    );
  }
}

function formatPath(segments: (string | number)[]): string {
  let path = '$';
  for (const s of segments) {
    path += typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;
  }
  return path;
}

function encode(v: unknown, canonical: boolean, ancestors: object[]): string {
  switch (typeof v) {
    case 'string':
      return JSON.stringify(v);
    case 'number':
      if (Number.isFinite(v)) return v === 0 && 1 / v < 0 ? '{"$n":"-0"}' : String(v);
      return `{"$n":"${v}"}`;
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '{"$u":0}';
    case 'bigint':
      return `{"$b":"${v}"}`;
    case 'object':
      return v === null ? 'null' : encodeObject(v, canonical, ancestors);
    default:
      throw new Unencodable(`a ${typeof v} cannot be serialized`);
  }
}

function encodeObject(v: object, canonical: boolean, ancestors: object[]): string {
  if (ancestors.includes(v)) throw new Unencodable('circular reference');
  ancestors.push(v);
  try {
    if (Array.isArray(v)) return encodeArray(v, canonical, ancestors);
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype || proto === null)
      return encodePlain(v as Record<string, unknown>, canonical, ancestors);
    if (v instanceof Date) {
      const t = v.getTime();
      return `{"$D":${Number.isNaN(t) ? 'null' : t}}`;
    }
    if (v instanceof Map) return encodeMap(v, canonical, ancestors);
    if (v instanceof Set) return encodeSet(v, canonical, ancestors);
    if (Buffer.isBuffer(v)) return `{"$B":"${v.toString('base64')}"}`;
    if (v instanceof Uint8Array)
      return `{"$U":"${Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64')}"}`;
    if (v instanceof RegExp) return `{"$R":[${JSON.stringify(v.source)},"${v.flags}"]}`;
    const name = (v as { constructor?: { name?: string } }).constructor?.name ?? 'an unknown class';
    throw new Unencodable(`an instance of ${name} cannot be restored with its type`);
  } finally {
    ancestors.pop();
  }
}

function encodeArray(v: unknown[], canonical: boolean, ancestors: object[]): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) out += ',';
    try {
      out += encode(v[i], canonical, ancestors);
    } catch (error) {
      throw within(error, i);
    }
  }
  return `${out}]`;
}

function encodePlain(v: Record<string, unknown>, canonical: boolean, ancestors: object[]): string {
  if (Object.getOwnPropertySymbols(v).length > 0)
    throw new Unencodable('an object with symbol keys cannot be serialized');
  const keys = Object.keys(v);
  if (canonical) keys.sort();
  let out = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    if (i > 0) out += ',';
    out += `${JSON.stringify(k.charCodeAt(0) === DOLLAR ? `$${k}` : k)}:`;
    try {
      out += encode(v[k], canonical, ancestors);
    } catch (error) {
      throw within(error, k);
    }
  }
  return `${out}}`;
}

function encodeMap(v: Map<unknown, unknown>, canonical: boolean, ancestors: object[]): string {
  const parts: string[] = [];
  let i = 0;
  for (const [key, value] of v) {
    try {
      parts.push(`[${encode(key, canonical, ancestors)},${encode(value, canonical, ancestors)}]`);
    } catch (error) {
      throw within(error, i);
    }
    i++;
  }
  if (canonical) parts.sort();
  return `{"$M":[${parts.join(',')}]}`;
}

function encodeSet(v: Set<unknown>, canonical: boolean, ancestors: object[]): string {
  const parts: string[] = [];
  let i = 0;
  for (const member of v) {
    try {
      parts.push(encode(member, canonical, ancestors));
    } catch (error) {
      throw within(error, i);
    }
    i++;
  }
  if (canonical) parts.sort();
  return `{"$S":[${parts.join(',')}]}`;
}

function within(error: unknown, segment: string | number): unknown {
  if (error instanceof Unencodable) error.segments.unshift(segment);
  return error;
}

/** Decodes text written by `encodeValue`/`encodeCanonical`. Throws on malformed input. */
export function decodeValue(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  // Every tag and every escaped key is written as `"$…`: text without it is plain JSON already.
  return text.includes('"$') ? revive(parsed) : parsed;
}

function revive(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i]);
    return v;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0].length === 2 && keys[0].charCodeAt(0) === DOLLAR)
    return reviveTag(keys[0], obj[keys[0]]);
  let escaped = false;
  for (const k of keys) if (k.charCodeAt(0) === DOLLAR) escaped = true;
  if (!escaped) {
    for (const k of keys) setOwn(obj, k, revive(obj[k]));
    return obj;
  }
  const out: Record<string, unknown> = {};
  for (const k of keys) setOwn(out, k.charCodeAt(0) === DOLLAR ? k.slice(1) : k, revive(obj[k]));
  return out;
}

function reviveTag(tag: string, p: unknown): unknown {
  switch (tag) {
    case '$u':
      return undefined;
    case '$n':
      return p === '-0' ? -0 : Number(p);
    case '$b':
      return BigInt(p as string);
    case '$D':
      return new Date(p === null ? Number.NaN : (p as number));
    case '$M':
      return new Map((p as [unknown, unknown][]).map(([k, val]) => [revive(k), revive(val)]));
    case '$S':
      return new Set((p as unknown[]).map(revive));
    case '$B':
      return Buffer.from(p as string, 'base64');
    case '$U':
      return new Uint8Array(Buffer.from(p as string, 'base64'));
    case '$R':
      return new RegExp((p as string[])[0], (p as string[])[1]);
    default:
      throw new SyntaxError(`Unknown cache codec tag ${tag}`);
  }
}

function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
