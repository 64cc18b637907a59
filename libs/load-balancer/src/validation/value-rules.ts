import didYouMean from 'didyoumean2';
import { INVALID_VALUE, UNKNOWN_KEY } from '../load-balancer.messages.js';

/** How like a known key an unknown one must be to be suggested: `outlierDetecton` → `outlierDetection` is, `upstreams` → `strategy` is not. */
export const TYPO = { threshold: 0.55 };

/** Node fires a timer of 2^31 ms or more after about 1 ms, so no timer option may exceed this. */
export const MAX_TIMER_MS = 2_147_483_647;
/** Counts (retries, thresholds, connections) share the timer bound: past it they mean "forever" anyway. */
const MAX_COUNT = 2_147_483_647;
/** Keeps the sum of weights finite for the cumulative tables of weighted strategies. */
const MAX_WEIGHT = 1_000_000;

/** One accepted shape of a value, with the words the error message uses for it. */
export interface Rule {
  readonly expectation: string;
  readonly test: (value: unknown) => boolean;
}

const isNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const integerIn = (min: number, max: number, expectation: string): Rule => ({
  expectation,
  test: (v) => Number.isInteger(v) && (v as number) >= min && (v as number) <= max,
});
const numberIn = (min: number, max: number, expectation: string, exclusiveMin = false): Rule => ({
  expectation,
  test: (v) => isNumber(v) && (exclusiveMin ? v > min : v >= min) && v <= max,
});

/** The shared bounds, by meaning. Every numeric option and argument of the lib is checked with one of these. */
export const RULES = {
  /** Passed to a timer. */
  timerMs: integerIn(
    1,
    MAX_TIMER_MS,
    `an integer number of milliseconds from 1 to ${MAX_TIMER_MS} (the largest timer Node runs)`,
  ),
  timerOrZeroMs: integerIn(
    0,
    MAX_TIMER_MS,
    `an integer number of milliseconds from 0 to ${MAX_TIMER_MS} (the largest timer Node runs)`,
  ),
  /** Only used in arithmetic (decay constants, ramps): fractions make sense. */
  durationMs: numberIn(0, MAX_TIMER_MS, `a finite number of milliseconds > 0 and <= ${MAX_TIMER_MS}`, true),
  latencyMs: numberIn(0, MAX_TIMER_MS, `a finite number of milliseconds from 0 to ${MAX_TIMER_MS}`),
  count: integerIn(0, MAX_COUNT, `an integer from 0 to ${MAX_COUNT}`),
  positiveCount: integerIn(1, MAX_COUNT, `an integer from 1 to ${MAX_COUNT}`),
  ratio: numberIn(0, 1, 'a number from 0 to 1'),
  percentile: numberIn(1, 99.9, 'a number from 1 to 99.9 (a percentile)'),
  percent: numberIn(0, 100, 'a number from 0 to 100'),
  nonNegative: numberIn(0, Number.MAX_VALUE, 'a finite number >= 0'),
  positive: numberIn(0, Number.MAX_VALUE, 'a finite number > 0', true),
  errorPenalty: numberIn(0, 1_000_000, 'a number from 0 to 1000000'),
  weight: numberIn(0, MAX_WEIGHT, `a finite number from 0 to ${MAX_WEIGHT}`),
  port: integerIn(1, 65_535, 'an integer from 1 to 65535'),
  nonEmptyString: { expectation: 'a non-empty string', test: (v) => typeof v === 'string' && v.length > 0 },
  object: { expectation: 'an object', test: (v) => v !== null && typeof v === 'object' && !Array.isArray(v) },
  array: { expectation: 'an array', test: Array.isArray },
  function: { expectation: 'a function', test: (v) => typeof v === 'function' },
  boolean: { expectation: 'true or false', test: (v) => typeof v === 'boolean' },
  protocol: { expectation: '"http" or "https"', test: (v) => v === 'http' || v === 'https' },
  // Duck-typed, so an AbortSignal from a polyfill or another realm is accepted too.
  signal: {
    expectation: 'an AbortSignal',
    test: (v) =>
      v !== null &&
      typeof v === 'object' &&
      typeof (v as AbortSignal).aborted === 'boolean' &&
      typeof (v as AbortSignal).addEventListener === 'function',
  },
  // Strings and numbers are refused: `'false'` and `0` would otherwise be read as their truthiness.
  errorFlag: {
    expectation: 'a boolean, null, or the error (an object)',
    test: (v) => v === null || typeof v === 'boolean' || typeof v === 'object',
  },
  path: {
    expectation: 'a string of printable characters without spaces (percent-encode the rest)',
    test: (v) => typeof v === 'string' && !/[^\u0021-\u00ff]/.test(v),
  },
  token: {
    expectation: "an HTTP token (letters, digits and !#$%&'*+-.^_`|~)",
    test: (v) => typeof v === 'string' && /^[\^_`a-zA-Z\-0-9!#$%&'*+.|~]+$/.test(v),
  },
  headerValue: {
    expectation: 'a string without control characters (no CR, LF or NUL)',
    test: (v) => typeof v === 'string' && !/[^\t\x20-\x7e\x80-\xff]/.test(v),
  },
  queryValue: {
    expectation: 'a string, a finite number or a boolean',
    test: (v) => typeof v === 'string' || typeof v === 'boolean' || isNumber(v),
  },
} satisfies Record<string, Rule>;

/** Headers the client manages itself; a caller value would conflict with the framing undici computes. */
export const MANAGED_HEADERS = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'expect',
]);

type ErrorClass = new (message: string) => Error;

/** Checks values against rules and throws `errorClass` with the shared message shape, ending in `fix`. */
export class Checker {
  constructor(
    private readonly errorClass: ErrorClass,
    private readonly fix: string,
  ) {}

  optional(value: unknown, path: string, rule: Rule): void {
    if (value !== undefined && !rule.test(value)) throw this.fail(path, rule.expectation, value);
  }

  required(value: unknown, path: string, rule: Rule): void {
    if (!rule.test(value)) throw this.fail(path, rule.expectation, value);
  }

  /** Fails on the first own key of `value` not in `known`, naming the nearest known one. `for…in`: no allocation. */
  knownKeys(value: object, path: string, known: readonly string[]): void {
    for (const key in value) {
      if (!Object.hasOwn(value, key) || known.includes(key)) continue;
      const suggestion = didYouMean(key, [...known], TYPO) ?? undefined;
      throw new this.errorClass(UNKNOWN_KEY(path, key, suggestion, known, this.fix));
    }
  }

  fail(path: string, expectation: string, value: unknown): Error {
    return new this.errorClass(INVALID_VALUE(path, expectation, describeValue(value), this.fix));
  }
}

/** A value as the message shows it: JSON where it has one, else `String()`; long values cut. */
export function describeValue(value: unknown): string {
  let text: string | undefined;
  if (typeof value === 'function') text = `a function${value.name ? ` ${value.name}` : ''}`;
  else if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'symbol') text = String(value);
  else {
    try {
      text = JSON.stringify(value);
    } catch {
      text = undefined;
    }
    text ??= String(value);
  }
  return text.length > 120 ? `${text.slice(0, 117)}...` : text;
}

export function checkHeaders(check: Checker, headers: unknown, path: string): void {
  check.required(headers, path, RULES.object);
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    check.required(name, `${path} name ${JSON.stringify(name)}`, RULES.token);
    if (MANAGED_HEADERS.has(name.toLowerCase())) {
      throw check.fail(`${path}[${JSON.stringify(name)}]`, 'left to the client (it frames the request itself)', value);
    }
    check.required(value, `${path}[${JSON.stringify(name)}]`, RULES.headerValue);
  }
}
