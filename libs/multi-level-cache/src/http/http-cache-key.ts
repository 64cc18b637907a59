import { createHash } from 'node:crypto';

/** Request headers that identify a user: their values are hashed before they go into a key (keys are not secret). */
const CREDENTIALS = new Set(['authorization', 'cookie', 'proxy-authorization']);

/** Header values longer than this are hashed too, so a key stays short whatever a client sends. */
const LONG_VALUE = 64;

/** The request fields a key is built from (both Express and Fastify requests have them). @internal */
export interface KeyedRequest {
  method: string;
  /** The request target as received: path and query string. */
  originalUrl?: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The default key of a cached answer: `<METHOD> <path>[?<query with its parameters sorted by name>]`. A parameter
 * repeated keeps the order of its values (`?a=2&a=1` is a list). @internal
 */
export function requestKey(req: KeyedRequest): string {
  const target = req.originalUrl ?? req.url;
  const q = target.indexOf('?');
  if (q === -1) return `${req.method} ${target}`;
  const path = target.slice(0, q);
  const query = target.slice(q + 1);
  if (query.length === 0) return `${req.method} ${path}`;
  if (!query.includes('&')) return `${req.method} ${path}?${query}`;
  const params = query.split('&').filter((p) => p.length > 0);
  // Array.prototype.sort is stable: values of one name keep their order.
  params.sort((a, b) => compare(nameOf(a), nameOf(b)));
  return `${req.method} ${path}?${params.join('&')}`;
}

/**
 * Appends the values of the headers the route varies on, as `\n<name>=<value>`, or `\n<name>#<SHA-256>` for
 * credentials and long values (never stored in clear). A route's header names are fixed, and header values and
 * request targets cannot hold a line break, so two requests share a key only when they agree on all of them. @internal
 */
export function withVary(key: string, vary: readonly string[], headers: KeyedRequest['headers']): string {
  for (const name of vary) {
    const raw = headers[name];
    const value = raw === undefined ? '' : Array.isArray(raw) ? raw.join(', ') : raw;
    const hashed = (CREDENTIALS.has(name) && value !== '') || value.length > LONG_VALUE;
    key += `\n${name}${hashed ? `#${digest(value)}` : `=${value}`}`;
  }
  return key;
}

/** A strong ETag of a body's JSON form. @internal */
export function etagOf(json: string): string {
  return `"${createHash('sha1').update(json).digest('base64url')}"`;
}

function digest(value: string): string {
  return createHash('sha256').update(value).digest('base64url');
}

function nameOf(param: string): string {
  const eq = param.indexOf('=');
  return eq === -1 ? param : param.slice(0, eq);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
