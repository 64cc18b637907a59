import { StreamableFile } from '@nestjs/common';
import type { KeyedRequest } from './http-cache-key.js';

/**
 * What the interceptor does with a request: `skip` (not cacheable: method, credentials, `no-store`; the handler
 * answers, nothing is read or written), `cache` (served from the cache when it can be, else loaded and stored),
 * `refresh` (`Cache-Control: no-cache`: the handler answers, and a cacheable answer replaces the cached one).
 * @internal
 */
export type RequestMode = 'skip' | 'cache' | 'refresh';

/** The response fields the policy reads (both Express `res` and Fastify `reply` have them). @internal */
export interface InspectedResponse {
  statusCode: number;
  getHeader(name: string): unknown;
}

/**
 * Only GET/HEAD; a request with credentials only when the route varies on them, so the key separates users. @internal
 */
export function requestMode(req: KeyedRequest, vary: readonly string[], methods: readonly string[]): RequestMode {
  if (!methods.includes(req.method)) return 'skip';
  const { headers } = req;
  if (headers.authorization !== undefined && !vary.includes('authorization')) return 'skip';
  if (headers.cookie !== undefined && !vary.includes('cookie')) return 'skip';
  const control = headers['cache-control'];
  if (control === undefined) return headers.pragma === 'no-cache' ? 'refresh' : 'cache';
  const directives = directivesOf(control);
  if (directives.includes('no-store')) return 'skip';
  return directives.includes('no-cache') ? 'refresh' : 'cache';
}

/**
 * Why an answer must not be stored, or undefined when it may: a status other than 2xx, a cookie being set,
 * `Cache-Control: private | no-store | no-cache`, a `Vary` on headers the key does not hold, or a body that is not
 * data (nothing returned because the handler wrote the response itself, a file, a stream). @internal
 */
export function answerProblem(body: unknown, res: InspectedResponse, vary: readonly string[]): string | undefined {
  if (res.statusCode < 200 || res.statusCode > 299) return `status ${res.statusCode}`;
  if (res.getHeader('set-cookie') !== undefined) return 'sets a cookie';
  const control = res.getHeader('cache-control');
  if (control !== undefined) {
    const directives = directivesOf(control);
    for (const d of ['private', 'no-store', 'no-cache']) if (directives.includes(d)) return `Cache-Control: ${d}`;
  }
  const varied = res.getHeader('vary');
  if (varied !== undefined) {
    for (const name of directivesOf(varied)) if (!vary.includes(name)) return `Vary: ${name} (not in @CacheVary)`;
  }
  if (body === undefined) return 'no body (the handler wrote the response itself)';
  if (typeof body === 'object' && body !== null && !isData(body)) return 'not data (a file, stream or Response)';
  return undefined;
}

/** Whether an `If-None-Match` header names this ETag (weak comparison, as for GET/HEAD). @internal */
export function matchesEtag(ifNoneMatch: string | string[] | undefined, etag: string): boolean {
  if (ifNoneMatch === undefined) return false;
  const list = Array.isArray(ifNoneMatch) ? ifNoneMatch.join(',') : ifNoneMatch;
  if (list.trim() === '*') return true;
  for (const tag of list.split(',')) {
    const t = tag.trim();
    if ((t.startsWith('W/') ? t.slice(2) : t) === etag) return true;
  }
  return false;
}

function isData(body: object): boolean {
  if (body instanceof StreamableFile || body instanceof Response) return false;
  if (typeof (body as { pipe?: unknown }).pipe === 'function') return false;
  if (typeof (body as { getReader?: unknown }).getReader === 'function') return false;
  return !(Symbol.asyncIterator in body);
}

/** Lower-case comma-separated tokens of a header value, parameters dropped (`max-age=0` → `max-age`). */
function directivesOf(value: unknown): string[] {
  const text = Array.isArray(value) ? value.join(',') : String(value);
  return text.split(',').map((d) => d.split('=')[0].trim().toLowerCase());
}
