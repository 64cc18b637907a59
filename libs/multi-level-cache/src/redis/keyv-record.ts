/*
 * Keyv's JSON (through @keyv/serialize) escapes a string value that starts with ":" by one more ":" (so that
 * ":base64:…" can mean a Buffer) and strips one when it reads. Records this cache writes escape the same way, so
 * cache-manager reads such strings as they were; this cache strips the escape again when it reads its own record.
 * Object keys are not escaped (Keyv does not escape them either).
 */

/** A string value starting with ":" is preceded by `[`, `,` or `:` (or starts the text); a cheap pre-check. */
const MAY_HOLD_COLON_STRING = /(?:^|[[,:])":/;

/** Whether compact JSON text may hold a string value starting with ":" (false: it surely does not). @internal */
export function mayHoldColonString(json: string): boolean {
  return MAY_HOLD_COLON_STRING.test(json);
}

/**
 * The JSON text with one ":" added to (`add`) or removed from (`!add`) every string value that starts with ":", or
 * undefined when there is none. `json` is compact JSON (no whitespace between tokens). @internal
 */
export function shiftColonStrings(json: string, add: boolean): string | undefined {
  if (!MAY_HOLD_COLON_STRING.test(json)) return undefined;
  let out = '';
  let from = 0;
  let changed = false;
  for (let i = 0; i < json.length; i++) {
    if (json.charCodeAt(i) !== 34 /* " */) continue;
    const start = i;
    for (i++; i < json.length && json.charCodeAt(i) !== 34; i++) if (json.charCodeAt(i) === 92 /* \ */) i++;
    if (i >= json.length) return undefined;
    // `i` is on the closing quote; a key is followed by ":".
    if (json.charCodeAt(start + 1) !== 58 /* : */ || json.charCodeAt(i + 1) === 58) continue;
    out += add ? `${json.slice(from, start + 1)}:` : json.slice(from, start + 1);
    from = add ? start + 1 : start + 2;
    changed = true;
  }
  return changed ? out + json.slice(from) : undefined;
}

/** Keyv's own reading of a value it wrote: ":base64:…" strings are Buffers, one leading ":" is an escape. @internal */
export function parseKeyvJson(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value !== 'string') return value;
    if (value.startsWith(':base64:')) return Buffer.from(value.slice(8), 'base64');
    return value.startsWith(':') ? value.slice(1) : value;
  });
}
