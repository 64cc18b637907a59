import type { Dispatcher } from 'undici';

/** Default cap on a buffered response body: 4 MiB. */
export const DEFAULT_MAX_RESPONSE_BYTES = 4 * 1024 * 1024;

/**
 * Reads a whole body if it fits in `limit` bytes; otherwise stops reading, discards the rest and returns undefined.
 * A `content-length` over the limit is refused before any byte is read.
 */
export async function readBoundedBody(
  body: Dispatcher.ResponseData['body'],
  headers: Dispatcher.ResponseData['headers'],
  limit: number,
): Promise<Buffer | undefined> {
  const declared = Number(headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    body.destroy();
    return undefined;
  }
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of body) {
    const bytes = chunk as Buffer;
    total += bytes.length;
    if (total > limit) {
      body.destroy();
      return undefined;
    }
    chunks.push(bytes);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}
