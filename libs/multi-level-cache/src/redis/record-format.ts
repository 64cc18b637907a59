import { decodeValue } from '../codec/value-codec.js';
import { MAX_TIMER_MS, MAX_TTL_MS } from '../multi-level-cache.options.js';
import { mayHoldColonString, parseKeyvJson, shiftColonStrings } from './keyv-record.js';

/**
 * Versions of a list of tags, each `<epoch>:<count>`. The epoch belongs to the namespace and lives in the same slot as
 * the counters: if they are lost together (a master lost without a replica), a new epoch makes every version recorded
 * before different, instead of counters restarting at 0 and matching old entries again. @internal
 */
export type TagVersions = string[];

/**
 * An entry as read from Redis. Times are wall-clock ms (they travel between hosts), already capped by what the
 * reader allows (see `decodeRecord`). @internal
 */
export interface StoredEntry {
  value: unknown;
  /** Until when the value is fresh. */
  freshUntil: number;
  /** Until when a stale value may still be served (grace); equals `freshUntil` without grace. */
  staleUntil: number;
  /** Until when Redis keeps the record as the key's last known value (fail-safe); at least `staleUntil`. */
  keepUntil: number;
  /** When the record was written (capped at now: a writer's clock ahead of ours). */
  writtenAt: number;
  tags?: string[];
  /** Versions of `tags` when the value was loaded; the entry is valid while they are current. */
  versions?: TagVersions;
  /** The record exactly as read: a load that replaces it writes only if the key still holds this. */
  raw: string;
  /** False for a record this cache cannot trust (foreign, malformed) and for tombstones: a miss a load may replace. */
  usable: boolean;
}

/** What a reader would give an entry it loads itself: served freshness is capped by it. @internal */
export interface ReaderLimits {
  ttl: number;
  grace: number;
}

/** A record to write: its text, Keyv's `expires` and the PX Redis keeps it for. @internal */
export interface EncodedRecord {
  text: string;
  pxMs: number;
}

/** Records written by this cache start so; with `"k":1` first, their strings starting with ":" are escaped. */
const OWN_RECORD = '{"mlc":';
const ESCAPED_RECORD = '{"mlc":{"k":1,';

/**
 * A Keyv record (`expires`, `value`: the codec text, Keyv's escape of strings starting with ":"), so cache-manager
 * reads the value itself; our envelope rides along under "mlc", which Keyv ignores: `f` fresh until, `s` stale
 * (grace) until, `x` kept (fail-safe) until, `a` written at, `t`/`n` tags and their versions. Keyv's `expires` is
 * `staleUntil`, so Keyv and cache-manager see the entry expire with its TTL; Redis keeps it to `x`. @internal
 */
export function encodeRecord(
  valueText: string,
  freshUntil: number,
  staleUntil: number,
  keepUntil: number,
  tags: readonly string[] | undefined,
  versions: TagVersions | undefined,
  now: number,
): EncodedRecord {
  let envelope = `{"f":${freshUntil}`;
  if (staleUntil > freshUntil) envelope += `,"s":${staleUntil}`;
  if (keepUntil > staleUntil) envelope += `,"x":${keepUntil}`;
  envelope += `,"a":${now}`;
  if (tags && tags.length > 0) envelope += `,"t":${JSON.stringify(tags)},"n":${JSON.stringify(versions ?? [])}`;
  envelope += '}';
  const expiresIn = Math.max(1, Math.ceil(staleUntil - now));
  const pxMs = Math.max(expiresIn, Math.ceil(keepUntil - now));
  const plain = `${OWN_RECORD}${envelope},"expires":${now + expiresIn},"value":${valueText}}`;
  // Only the value may hold such strings for Keyv to read (it ignores "mlc"): the common record is not scanned here.
  const escaped = mayHoldColonString(valueText) ? shiftColonStrings(plain, true) : undefined;
  return { text: escaped === undefined ? plain : ESCAPED_RECORD + escaped.slice(OWN_RECORD.length + 1), pxMs };
}

/**
 * A delete's record: a miss for every reader (no "value": cache-manager reads a miss too), and a write condition no
 * earlier load can match. @internal
 */
export function tombstoneRecord(now: number, tombstoneMs: number): string {
  return `${OWN_RECORD}{"d":1,"a":${now}},"expires":${now + tombstoneMs}}`;
}

/**
 * Decodes a record: the entry, `undefined` when it has expired, or the problem that makes it untrustworthy. With
 * `limits`, the freshness served is capped at what the reader would give a value it loaded itself when the record
 * was written. @internal
 */
export function decodeRecord(
  text: string,
  limits: ReaderLimits | undefined,
  now: number,
): StoredEntry | undefined | { problem: string } {
  const own = text.startsWith(OWN_RECORD);
  if (!own) {
    const foreign = keyvRecord(text);
    if (foreign) return foreignEntry(foreign, text, limits, now);
  }
  let record: unknown;
  try {
    record = decodeValue(own && text.startsWith(ESCAPED_RECORD) ? (shiftColonStrings(text, false) ?? text) : text);
  } catch {
    return { problem: 'not a record of this cache’s codec' };
  }
  // Ours: `{"mlc":<envelope>,"expires":…,"value":…}`; older versions: `{"expires":…,"value":<envelope with "v">}`.
  const r = (record ?? {}) as { mlc?: Record<string, unknown>; expires?: unknown; value?: Record<string, unknown> };
  const e = own ? r.mlc : r.value;
  if (e?.d === 1) return unusableEntry(text);
  const hasValue = own ? 'value' in r : typeof e === 'object' && e !== null && 'v' in e;
  const { expires } = r;
  const problem = envelopeProblem(e, expires, hasValue);
  if (problem) return { problem };
  const envelope = e as { v?: unknown; f: number; s?: number; x?: number; a: number; t?: string[]; n?: string[] };
  // Keyv's rule: a record past its `expires` is a miss. Ours may stay longer (PX up to `x`) as a fail-safe value.
  const keepUntil = envelope.x ?? envelope.s ?? envelope.f;
  if (typeof expires === 'number' && expires < now && !(keepUntil > now)) return undefined;
  let freshUntil = envelope.f;
  let staleUntil = envelope.s ?? envelope.f;
  // A writer's clock ahead of ours must not extend the cap.
  const writtenAt = Math.min(envelope.a, now);
  if (limits) {
    freshUntil = Math.min(freshUntil, writtenAt + limits.ttl);
    staleUntil = Math.min(staleUntil, freshUntil + limits.grace);
  }
  return {
    value: own ? r.value : envelope.v,
    freshUntil,
    staleUntil,
    keepUntil,
    writtenAt,
    tags: envelope.t,
    versions: envelope.n,
    raw: text,
    usable: true,
  };
}

/** @internal */
export function unusableEntry(raw: string): StoredEntry {
  return { value: undefined, freshUntil: -1, staleUntil: -1, keepUntil: -1, writtenAt: -1, raw, usable: false };
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((v) => typeof v === 'string');
}

/** What is wrong with a record's envelope, or undefined when this cache could have written it. */
function envelopeProblem(e: unknown, expires: unknown, hasValue: boolean): string | undefined {
  if (e === null || typeof e !== 'object' || Array.isArray(e)) return 'no envelope object';
  const { f, s, x, a, t, n } = e as Record<string, unknown>;
  if (!hasValue) return 'no value';
  if (expires !== undefined && expires !== null && !isFiniteNumber(expires)) return '`expires` is not a number';
  if (!isFiniteNumber(a)) return 'no write time `a` (written by another program or an older version)';
  if (!isFiniteNumber(f) || f < a || f - a > MAX_TTL_MS) return '`f` is not a freshness this cache gives';
  if (s !== undefined && (!isFiniteNumber(s) || s < f || s - f > MAX_TTL_MS))
    return '`s` is not a grace this cache gives';
  const end = (s ?? f) as number;
  if (x !== undefined && (!isFiniteNumber(x) || x < end || x - end > MAX_TIMER_MS))
    return '`x` is not a fail-safe retention this cache gives';
  if (t !== undefined && (!isStringArray(t) || !isStringArray(n) || n.length !== t.length))
    return '`t`/`n` are not matching lists of tags and versions';
  return undefined;
}

/** A record as Keyv writes it. */
interface KeyvRecord {
  value: unknown;
  expires: number | null | undefined;
}

/**
 * The record when Keyv wrote it (`{"value":…,"expires":…}` and nothing else, with Keyv's escapes), else undefined.
 * An envelope of an older version of this cache inside is not Keyv's.
 */
function keyvRecord(text: string): KeyvRecord | undefined {
  if (!text.startsWith('{"value":')) return undefined;
  let record: unknown;
  try {
    record = parseKeyvJson(text);
  } catch {
    return undefined;
  }
  const { value, expires, ...rest } = record as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return undefined;
  if (expires !== undefined && expires !== null && !isFiniteNumber(expires)) return undefined;
  if (isOldEnvelope(value)) return undefined;
  return { value, expires };
}

/** An envelope this cache wrote as Keyv's value before the `mlc` format: `v`, and numeric `f` and `a`. */
function isOldEnvelope(value: unknown): boolean {
  if (value === null || typeof value !== 'object' || !('v' in value)) return false;
  const { f, a } = value as { f?: unknown; a?: unknown };
  return isFiniteNumber(f) && isFiniteNumber(a);
}

/**
 * A record Keyv wrote (cache-manager with @keyv/redis on the same namespace): a hit until its `expires`, capped like
 * ours by what the reader gives (its write time is unknown: counted from now). No tags, no grace, no fail-safe.
 */
function foreignEntry(
  record: KeyvRecord,
  raw: string,
  limits: ReaderLimits | undefined,
  now: number,
): StoredEntry | undefined {
  if (typeof record.expires === 'number' && record.expires < now) return undefined;
  let freshUntil = typeof record.expires === 'number' ? record.expires : now + MAX_TTL_MS;
  if (limits) freshUntil = Math.min(freshUntil, now + limits.ttl);
  return {
    value: record.value,
    freshUntil,
    staleUntil: freshUntil,
    keepUntil: freshUntil,
    writtenAt: now,
    raw,
    usable: true,
  };
}
