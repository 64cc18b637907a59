import { UnserializablePayloadError } from './errors/unserializable-payload.error.js';

/**
 * @internal Returns a deep copy of `payload` exactly as a handler will see it after the JSON trip through the
 * queue (`toJSON` applied, `undefined` properties dropped), or throws `UnserializablePayloadError` naming the first
 * value that JSON would lose or mangle silently (functions, symbols, BigInt, non-finite numbers, Map, Set, cycles).
 * Top-level `undefined` becomes `null`.
 */
export function toTaskPayload(taskName: string, payload: unknown): unknown {
  if (payload === undefined) return null;
  // A toJSON may enqueue in turn: the inner call checks cycles only against its own ancestors (from `from` up).
  const from = depth;
  try {
    return copy(payload, from);
  } catch (error) {
    if (error instanceof Unserializable) {
      throw new UnserializablePayloadError(taskName, `payload${error.path}`, error.reason);
    }
    throw error;
  } finally {
    depth = from;
  }
}

/**
 * Thrown inside the copy and completed on the way out, each level putting its key in front: a payload that is
 * valid builds no path strings.
 */
class Unserializable {
  constructor(
    public path: string,
    readonly reason: string,
  ) {}
}

function withKey(error: unknown, key: string): unknown {
  if (error instanceof Unserializable) error.path = key + error.path;
  return error;
}

/** The objects being copied, outermost first: a stack shared by every call (the copy is synchronous). */
const ancestors: (object | undefined)[] = [];
let depth = 0;

function copy(value: unknown, from: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) throw new Unserializable('', `is ${value} (JSON would turn it into null)`);
      return value;
    case 'object':
      if (value === null) return null;
      return copyObject(value, from);
    default:
      throw new Unserializable('', `is a ${typeof value}`);
  }
}

function copyObject(value: object, from: number): unknown {
  for (let i = from; i < depth; i++) {
    if (ancestors[i] === value) throw new Unserializable('', 'refers back to itself (a cycle)');
  }
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return copy(toJSON.call(value), from);
  const proto: unknown = Object.getPrototypeOf(value);
  // Plain objects and arrays (nearly every payload) skip the four class checks.
  if (
    proto !== Object.prototype &&
    proto !== Array.prototype &&
    proto !== null &&
    (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value) || value instanceof ArrayBuffer)
  ) {
    throw new Unserializable('', `is a ${value.constructor.name} (JSON would turn it into {})`);
  }
  ancestors[depth++] = value;
  let out: unknown;
  if (Array.isArray(value)) {
    const arr: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined) throw new Unserializable(`[${i}]`, 'is undefined (JSON would turn it into null)');
      try {
        arr.push(copy(item, from));
      } catch (error) {
        throw withKey(error, `[${i}]`);
      }
    }
    out = arr;
  } else {
    const obj: Record<string, unknown> = {};
    // for…in allocates no key array (Object.keys does); the hasOwn check keeps it to the keys JSON would take.
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      try {
        setOwn(obj, key, copy(item, from));
      } catch (error) {
        throw withKey(error, `.${key}`);
      }
    }
    out = obj;
  }
  // Cleared so that the stack does not keep the caller's objects alive.
  ancestors[--depth] = undefined;
  return out;
}

/**
 * @internal A deep copy of a value `toTaskPayload` returned (plain JSON data only, so no checks): every attempt and
 * every reader gets its own, as each BullMQ attempt parses its own from Redis.
 */
export function clonePayload(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) {
    const arr: unknown[] = [];
    for (let i = 0; i < value.length; i++) arr.push(clonePayload(value[i]));
    return arr;
  }
  const obj: Record<string, unknown> = {};
  // for…in allocates no key array; the value is our own plain copy, so every enumerable key is its own.
  for (const key in value) setOwn(obj, key, clonePayload((value as Record<string, unknown>)[key]));
  return obj;
}

/** Assignment would make an own `__proto__` key the object's prototype; JSON.parse keeps it as data, and so do we. */
function setOwn(obj: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__')
    Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
  else obj[key] = value;
}
