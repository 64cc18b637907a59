import { cacheableClass } from './class-registry.js';

// The decoding half of the format described in value-codec.ts.

/** `$`: first character of a tag, and of an escaped user key. @internal */
export const DOLLAR = 36;
/** What `revive` gives for `$h`; only an array may hold it. */
const HOLE = Symbol('hole');

/** Decodes text written by `encodeValue`. Throws on malformed input (or a class not registered here). */
export function decodeValue(text: string): unknown {
  const parsed: unknown = JSON.parse(text);
  // Every tag and every escaped key is written as `"$…`: text without it is plain JSON already.
  return text.includes('"$') ? reviveValue(parsed) : parsed;
}

function reviveValue(v: unknown): unknown {
  const out = revive(v);
  if (out === HOLE) throw new SyntaxError('A cache codec hole ($h) outside an array');
  return out;
}

function revive(v: unknown): unknown {
  if (typeof v !== 'object' || v === null) return v;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const item = revive(v[i]);
      if (item === HOLE) delete v[i];
      else v[i] = item;
    }
    return v;
  }
  const obj = v as Record<string, unknown>;
  const keys = Object.keys(obj);
  if (keys.length === 1 && keys[0].length === 2 && keys[0].charCodeAt(0) === DOLLAR && keys[0].charCodeAt(1) !== DOLLAR)
    return reviveTag(keys[0], obj[keys[0]]);
  let escaped = false;
  for (const k of keys) if (k.charCodeAt(0) === DOLLAR) escaped = true;
  if (!escaped) {
    for (const k of keys) setOwn(obj, k, reviveValue(obj[k]));
    return obj;
  }
  return reviveInto({}, obj);
}

/** Copies `data`'s entries onto `target` as own data properties, unescaping `$$` keys. */
function reviveInto<T extends object>(target: T, data: unknown, set = setOwn): T {
  if (typeof data !== 'object' || data === null || Array.isArray(data))
    throw new SyntaxError('A cache codec object tag without an object');
  for (const k of Object.keys(data)) {
    set(
      target as Record<string, unknown>,
      k.charCodeAt(0) === DOLLAR ? k.slice(1) : k,
      reviveValue((data as Record<string, unknown>)[k]),
    );
  }
  return target;
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
      return new Map((p as [unknown, unknown][]).map(([k, val]) => [reviveValue(k), reviveValue(val)]));
    case '$S':
      return new Set((p as unknown[]).map(reviveValue));
    case '$B':
      return Buffer.from(p as string, 'base64');
    case '$U':
      return new Uint8Array(Buffer.from(p as string, 'base64'));
    case '$R':
      return new RegExp((p as string[])[0], (p as string[])[1]);
    case '$h':
      return HOLE;
    case '$O':
      return reviveInto(Object.create(null) as object, p);
    case '$C':
      return reviveInstance(p);
    default:
      throw new SyntaxError(`Unknown cache codec tag ${tag}`);
  }
}

/** A registered class's instance: its own data on `Object.create(prototype)`; the constructor is not called. */
function reviveInstance(p: unknown): object {
  const [name, data] = p as [unknown, unknown];
  const type = typeof name === 'string' ? cacheableClass(name) : undefined;
  if (type === undefined)
    throw new SyntaxError(
      `Cached instance of ${JSON.stringify(name)}, a class not registered with @CacheableClass() in this process`,
    );
  return reviveInto(Object.create(type.prototype as object) as object, data, defineOwn);
}

/** Own data property on a plain or null-prototype object: `__proto__` stays data, never the prototype. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') defineOwn(obj, key, value);
  else obj[key] = value;
}

/** Own data property whatever the prototype holds (a class's accessor of that name is not called). */
function defineOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
}
