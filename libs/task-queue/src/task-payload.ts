import { UnserializablePayloadError } from './errors/unserializable-payload.error.js';

/**
 * @internal Returns a deep copy of `payload` exactly as a handler will see it after the JSON trip through the
 * queue (`toJSON` applied, `undefined` properties dropped), or throws `UnserializablePayloadError` naming the first
 * value that JSON would lose or mangle silently (functions, symbols, BigInt, non-finite numbers, Map, Set, cycles).
 * Top-level `undefined` becomes `null`.
 */
export function toTaskPayload(taskName: string, payload: unknown): unknown {
  if (payload === undefined) return null;
  // The copy is synchronous and not re-entrant, so one stack of ancestors serves every call.
  sharedAncestors.length = 0;
  try {
    return copy(taskName, payload, 'payload', sharedAncestors);
  } finally {
    sharedAncestors.length = 0;
  }
}

const sharedAncestors: object[] = [];

function copy(taskName: string, value: unknown, path: string, ancestors: object[]): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      if (!Number.isFinite(value)) {
        throw new UnserializablePayloadError(taskName, path, `is ${value} (JSON would turn it into null)`);
      }
      return value;
    case 'object':
      if (value === null) return null;
      return copyObject(taskName, value, path, ancestors);
    default:
      throw new UnserializablePayloadError(taskName, path, `is a ${typeof value}`);
  }
}

function copyObject(taskName: string, value: object, path: string, ancestors: object[]): unknown {
  if (ancestors.includes(value))
    throw new UnserializablePayloadError(taskName, path, 'refers back to itself (a cycle)');
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function') return copy(taskName, toJSON.call(value), path, ancestors);
  if (value instanceof Map || value instanceof Set || ArrayBuffer.isView(value) || value instanceof ArrayBuffer) {
    throw new UnserializablePayloadError(taskName, path, `is a ${value.constructor.name} (JSON would turn it into {})`);
  }
  ancestors.push(value);
  let out: unknown;
  if (Array.isArray(value)) {
    const arr: unknown[] = [];
    for (let i = 0; i < value.length; i++) {
      const item = value[i];
      if (item === undefined)
        throw new UnserializablePayloadError(taskName, `${path}[${i}]`, 'is undefined (JSON would turn it into null)');
      arr.push(copy(taskName, item, `${path}[${i}]`, ancestors));
    }
    out = arr;
  } else {
    const obj: Record<string, unknown> = {};
    for (const key of Object.keys(value)) {
      const item = (value as Record<string, unknown>)[key];
      if (item === undefined) continue;
      setOwn(obj, key, copy(taskName, item, `${path}.${key}`, ancestors));
    }
    out = obj;
  }
  ancestors.pop();
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
