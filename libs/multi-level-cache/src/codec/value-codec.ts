import { types } from 'node:util';
import { CacheSerializationError } from '../errors/cache-serialization.error.js';
import { UNENCODABLE_VALUE, UNKEYABLE_VALUE, UNREGISTERED_CLASS } from '../multi-level-cache.messages.js';
import { cacheableName } from './class-registry.js';
import { DOLLAR } from './value-decoder.js';

export { decodeValue } from './value-decoder.js';

/*
 * A type-tagged JSON encoding. Plain JSON values encode as themselves; everything JSON would lose or change is written
 * as a one-key object whose key is `$` plus one letter (`{"$D":1700000000000}` is a Date). User object keys that start
 * with `$` get one more `$`, so once encoded they start with `$$` and a tag (whose second character is never `$`) can
 * never be forged by data, not even by an object whose only key is `$` (xml2js attributes). Decoding builds own data
 * properties only, so `__proto__` and `constructor` keys stay plain data.
 *
 * Tags: $u undefined, $n non-finite or -0 number, $b BigInt, $D Date, $M Map, $S Set, $B Buffer, $U Uint8Array,
 * $R RegExp, $h array hole, $O null-prototype object, $C instance of a class (name and own enumerable data).
 */

/** Root values of failed `encodeValue` calls, so `@Cached` can still return a result it could not store. */
const failedRoots = new WeakMap<CacheSerializationError, unknown>();

/** Thrown inside the walk; each level adds its path segment on the way out. */
class Unencodable {
  readonly segments: (string | number)[] = [];
  constructor(readonly reason: string) {}
}

/**
 * Encodes a value for storage (object keys in insertion order). Class instances are accepted only for classes
 * registered with `@CacheableClass()`, so that every instance restores them with their prototype.
 */
export function encodeValue(value: unknown): string {
  return run(value, false);
}

/**
 * Encodes a value for a cache key: sorted object keys, Map entries and Set members (equal inputs, equal text), and
 * any class instance by its class name and own enumerable data (a DTO built by a pipe keys like its fields).
 */
export function encodeCanonical(value: unknown): string {
  return run(value, true);
}

/** The value whose `encodeValue` threw `error`, if it did. @internal */
export function unencodedRoot(error: unknown): { value: unknown } | undefined {
  return error instanceof CacheSerializationError && failedRoots.has(error)
    ? { value: failedRoots.get(error) }
    : undefined;
}

function run(value: unknown, canonical: boolean): string {
  try {
    return encode(value, canonical, []);
  } catch (error) {
    if (!(error instanceof Unencodable)) throw error;
    const path = formatPath(error.segments);
    const message = canonical ? UNKEYABLE_VALUE(path, error.reason) : UNENCODABLE_VALUE(path, error.reason);
    const failure = new CacheSerializationError(message, path);
    if (!canonical) failedRoots.set(failure, value);
    throw failure;
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
    // Exact prototypes: a subclass of a built-in would come back as the built-in, so it takes the class path.
    const proto: unknown = Object.getPrototypeOf(v);
    if (proto === Object.prototype) return encodePlain(v, canonical, ancestors);
    if (proto === Array.prototype) return encodeArray(v as unknown[], canonical, ancestors);
    if (proto === null) {
      const body = encodePlain(v, canonical, ancestors);
      return canonical ? body : `{"$O":${body}}`;
    }
    if (proto === Date.prototype) {
      const t = (v as Date).getTime();
      return `{"$D":${Number.isNaN(t) ? 'null' : t}}`;
    }
    if (proto === Map.prototype) return encodeMap(v as Map<unknown, unknown>, canonical, ancestors);
    if (proto === Set.prototype) return encodeSet(v as Set<unknown>, canonical, ancestors);
    if (proto === Buffer.prototype) return `{"$B":"${(v as Buffer).toString('base64')}"}`;
    if (proto === Uint8Array.prototype) {
      const bytes = v as Uint8Array;
      return `{"$U":"${Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64')}"}`;
    }
    if (proto === RegExp.prototype) return `{"$R":[${JSON.stringify((v as RegExp).source)},"${(v as RegExp).flags}"]}`;
    return encodeInstance(v, proto as object, canonical, ancestors);
  } finally {
    ancestors.pop();
  }
}

function encodeInstance(v: object, proto: object, canonical: boolean, ancestors: object[]): string {
  const type: unknown = (proto as { constructor?: unknown }).constructor;
  const className = typeof type === 'function' && type.name ? type.name : 'an anonymous class';
  if (holdsInternalState(v))
    throw new Unencodable(
      `an instance of ${className} keeps its data in a built-in type's internal slots, which own properties do not carry; map it to plain data`,
    );
  const name = cacheableName(type);
  if (name === undefined && !canonical) throw new Unencodable(UNREGISTERED_CLASS(className));
  return `{"$C":[${JSON.stringify(name ?? className)},${encodePlain(v, canonical, ancestors)}]}`;
}

/** Built-ins (and their subclasses) whose state own enumerable properties do not show. */
function holdsInternalState(v: object): boolean {
  return (
    Array.isArray(v) ||
    ArrayBuffer.isView(v) ||
    types.isAnyArrayBuffer(v) ||
    types.isBoxedPrimitive(v) ||
    types.isDate(v) ||
    types.isMap(v) ||
    types.isSet(v) ||
    types.isRegExp(v) ||
    types.isNativeError(v) ||
    types.isPromise(v) ||
    types.isWeakMap(v) ||
    types.isWeakSet(v)
  );
}

function encodeArray(v: unknown[], canonical: boolean, ancestors: object[]): string {
  let out = '[';
  for (let i = 0; i < v.length; i++) {
    if (i > 0) out += ',';
    const item = v[i];
    if (item === undefined && !(i in v)) {
      out += '{"$h":0}';
      continue;
    }
    try {
      out += encode(item, canonical, ancestors);
    } catch (error) {
      throw within(error, i);
    }
  }
  return `${out}]`;
}

function encodePlain(v: object, canonical: boolean, ancestors: object[]): string {
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
      out += encode((v as Record<string, unknown>)[k], canonical, ancestors);
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
