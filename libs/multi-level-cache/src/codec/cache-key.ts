import { createHash } from 'node:crypto';
import { encodeCanonical } from './value-codec.js';

/** Keys longer than this are replaced by a SHA-256 digest, so Redis keys stay short whatever the arguments. */
export const MAX_PLAIN_KEY_LENGTH = 200;

/**
 * Canonical text of a method's arguments. Single primitive arguments, the common case, skip the generic walk but give
 * exactly the text the walk would give.
 */
export function encodeArgs(args: readonly unknown[]): string {
  if (args.length === 0) return '[]';
  if (args.length === 1) {
    const a = args[0];
    if (typeof a === 'string') return `[${JSON.stringify(a)}]`;
    if (typeof a === 'number' && Number.isFinite(a) && !(a === 0 && 1 / a < 0)) return `[${a}]`;
    if (typeof a === 'boolean') return a ? '[true]' : '[false]';
  }
  return encodeCanonical(args);
}

/** `prefix + text`, or `prefix + '#' + sha256(text)` when that would be too long. */
export function shortenKey(prefix: string, text: string): string {
  const key = prefix + text;
  if (key.length <= MAX_PLAIN_KEY_LENGTH) return key;
  return `${prefix}#${createHash('sha256').update(text).digest('base64url')}`;
}
