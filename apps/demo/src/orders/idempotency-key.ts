import { BadRequestException } from '@nestjs/common';
import { createHash } from 'node:crypto';

/** `Idempotency-Key`: 1-200 visible ASCII characters; a random UUID per logical request is the usual choice. */
const KEY_PATTERN = /^[\x21-\x7e]{1,200}$/;

export function checkIdempotencyKey(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  if (!KEY_PATTERN.test(raw)) {
    throw new BadRequestException(
      'Idempotency-Key must be 1-200 visible ASCII characters with no spaces; send a new random UUID per order',
    );
  }
  return raw;
}

/**
 * The order id a key stands for: every gateway derives the same one, so a retry anywhere finds the order (or its
 * tasks, through their dedup keys) without a lookup table. Formatted as a version-4 UUID so `GET /orders/:id` takes it.
 */
export function orderIdForKey(key: string): string {
  const hex = createHash('sha256').update(`idempotency-key:${key}`).digest('hex');
  const variant = ((parseInt(hex[16], 16) & 0x3) | 0x8).toString(16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-4${hex.slice(13, 16)}-${variant}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}

/** A digest of what was ordered, to tell a retry of a request from a reuse of its key for another. */
export function requestDigest(value: unknown): string {
  return createHash('sha256').update(JSON.stringify(value)).digest('base64url');
}
