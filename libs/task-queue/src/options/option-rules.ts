import { InvalidTaskQueueOptionsError } from '../errors/invalid-task-queue-options.error.js';
import { MAX_DELAY_MS, MAX_TIMER_MS } from '../task-queue.constants.js';
import didYouMean from 'didyoumean2';
import { INVALID_OPTION, UNKNOWN_KEY, UNKNOWN_OPTION } from '../task-queue.messages.js';

/** How like a known key an unknown one must be to be suggested: `shutdownTimeoutMs` → `shutdownDeadlineMs` is, `redis` → `prefix` is not. */
const TYPO = { threshold: 0.55 };

// @internal The value rules every option and argument of this lib goes through (one validation path).

export const CONFIG_FIX = 'Check your configuration.';
export const TIMER_FIX = `Node fires a timer longer than ${MAX_TIMER_MS} ms (about 24.8 days) at once; use a shorter value.`;
export const DELAY_FIX = `Delays up to ${MAX_DELAY_MS} ms (365 days) are supported; schedule longer ones later.`;
export const bootError = (m: string) => new InvalidTaskQueueOptionsError(m);

/**
 * The one numeric check of this lib (module, handler, enqueue and call-time options): an integer in
 * [min, max], so NaN, ±Infinity, fractions, negatives and out-of-range values all fail, naming the option.
 * `undefined` passes through unless `required`.
 */
export function integer(
  option: string,
  value: unknown,
  min: number,
  max: number,
  onError: (message: string) => Error,
  fix: string,
  required = false,
): number | undefined {
  if (value === undefined && !required) return undefined;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `an integer ≥ ${min}` : `an integer from ${min} to ${max}`;
    throw onError(INVALID_OPTION(option, value, /Ms\b/.test(option) ? `${range} (milliseconds)` : range, fix));
  }
  return value;
}

/** A duration that a timer waits for: at most MAX_TIMER_MS. */
export function timerOption(option: string, value: number | undefined, min: number): number | undefined {
  return integer(option, value, min, MAX_TIMER_MS, bootError, TIMER_FIX);
}

export function msOption(option: string, value: number | undefined, min: number, max: number): number | undefined {
  return integer(option, value, min, max, bootError, `Use at most ${max} ms.`);
}

export function count(option: string, value: number | undefined, min = 0): number | undefined {
  return integer(option, value, min, Number.MAX_SAFE_INTEGER, bootError, CONFIG_FIX);
}

/** A BullMQ queue name: its keys are `<prefix>:<name>:…`, so a colon would make them ambiguous. */
export function queueNameOption(option: string, name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.includes(':')) {
    fail(option, name, 'a non-empty string without ":"', 'Name the queue, e.g. "emails".');
  }
  return name;
}

export function bool(option: string, value: boolean | undefined): boolean | undefined {
  if (value !== undefined && typeof value !== 'boolean') fail(option, value, 'true or false');
  return value;
}

/** Fails on a key `known` does not list, suggesting the nearest known one when it looks like a typo of it. */
export function knownKeys(where: string, options: object, known: readonly string[]): void {
  const key = unknownKey(options, known);
  if (key !== undefined) throw new InvalidTaskQueueOptionsError(UNKNOWN_OPTION(where, key, suggest(key, known), known));
}

/**
 * The nested-object form of `knownKeys`, for every plain options object the user writes inside another one
 * (`retention.completed`, `backoff`, `rateLimit`, …) or passes to a call (`enqueue` options): fails on an own
 * enumerable key that its interface does not declare, naming `path`, the key and the nearest known one. It
 * allocates nothing on valid input (enqueue calls it): the path is a string, or built by `path(context)` only
 * when it fails. Never call it on a Redis connection, a client, a class instance or task data.
 */
export function onlyKeys<C = undefined>(
  path: string | ((context: C) => string),
  value: object,
  known: readonly string[],
  onError: (message: string) => Error = bootError,
  context?: C,
): void {
  const key = unknownKey(value, known);
  if (key === undefined) return;
  throw onError(UNKNOWN_KEY(typeof path === 'string' ? path : path(context as C), key, suggest(key, known), known));
}

/** Every key of an options interface, listed once: the compiler rejects a missing or an undeclared one. */
export const keysOf = <T>(keys: Record<keyof T, true>): readonly string[] => Object.keys(keys);

/** `for…in` + `Object.hasOwn`: no key array (Object.keys would allocate one), and only own enumerable keys. */
function unknownKey(value: object, known: readonly string[]): string | undefined {
  for (const key in value) {
    if (Object.hasOwn(value, key) && !known.includes(key)) return key;
  }
  return undefined;
}

const suggest = (key: string, known: readonly string[]) => didYouMean(key, [...known], TYPO) ?? undefined;

export function fail(option: string, value: unknown, expected: string, fix?: string): never {
  throw new InvalidTaskQueueOptionsError(INVALID_OPTION(option, value, expected, fix));
}
