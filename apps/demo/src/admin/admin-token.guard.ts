import {
  type CanActivate,
  type ExecutionContext,
  ForbiddenException,
  Injectable,
  UnauthorizedException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DemoConfig } from '../config/demo-config.js';

/**
 * Admin endpoints and bull-board. Reads take `Authorization: Bearer <ADMIN_TOKEN>` or HTTP Basic with the token as
 * the password (what a browser sends after its login prompt). Changes refuse what a browser sends on its own to a
 * page of another site (CSRF): they need the Bearer token (a browser never adds it by itself), an `Origin`, when
 * present, equal to this gateway's, and a body that is not form-encoded.
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly config: DemoConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const refusal = refuseAdminRequest(context.switchToHttp().getRequest<IncomingMessage>(), this.config.adminToken);
    if (refusal === undefined) return true;
    if (refusal.status === 401) throw new UnauthorizedException(refusal.message);
    if (refusal.status === 415) throw new UnsupportedMediaTypeException(refusal.message);
    throw new ForbiddenException(refusal.message);
  }
}

const ADMIN_AUTH_MESSAGE =
  'admin endpoints need "Authorization: Bearer <ADMIN_TOKEN>" (or HTTP Basic with the token as the password)';
const ADMIN_WRITE_AUTH_MESSAGE =
  'admin changes need "Authorization: Bearer <ADMIN_TOKEN>"; HTTP Basic, which browsers resend on their own, is ' +
  'accepted for reads only';
const CROSS_SITE_MESSAGE = 'admin changes are refused from another site: the request Origin is not this gateway';
const FORM_BODY_MESSAGE = 'admin changes take JSON bodies only (content-type: application/json), never forms';

/** Bodies a cross-site form can send without a CORS preflight. */
const FORM_CONTENT_TYPE = /^\s*(application\/x-www-form-urlencoded|multipart\/form-data|text\/plain)\b/i;
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface AdminRefusal {
  status: 401 | 403 | 415;
  message: string;
}

/** Why an admin request is refused, or undefined when it may go on. */
export function refuseAdminRequest(request: IncomingMessage, token: string): AdminRefusal | undefined {
  const { scheme, credential } = presentedCredential(request.headers.authorization ?? '');
  if (!matches(credential, token)) return { status: 401, message: ADMIN_AUTH_MESSAGE };
  if (SAFE_METHODS.has(request.method ?? 'GET')) return undefined;
  if (isCrossSite(request)) return { status: 403, message: CROSS_SITE_MESSAGE };
  if (FORM_CONTENT_TYPE.test(request.headers['content-type'] ?? '')) return { status: 415, message: FORM_BODY_MESSAGE };
  // bull-board's own page runs in the admin's browser on this origin and signs in with Basic.
  if (scheme !== 'Bearer' && !isSameOriginBrowserRequest(request)) {
    return { status: 401, message: ADMIN_WRITE_AUTH_MESSAGE };
  }
  return undefined;
}

function matches(given: string, token: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

function presentedCredential(header: string): { scheme: 'Bearer' | 'Basic' | 'none'; credential: string } {
  if (header.startsWith('Bearer ')) return { scheme: 'Bearer', credential: header.slice(7) };
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return { scheme: 'Basic', credential: decoded.slice(decoded.indexOf(':') + 1) };
  }
  return { scheme: 'none', credential: '' };
}

function isCrossSite(request: IncomingMessage): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || site === 'same-site') return true;
  const origin = request.headers.origin;
  return origin !== undefined && !sameOrigin(origin, request.headers.host);
}

/** A fetch from a page of this very origin: the browser says so (`Sec-Fetch-Site`) and the `Origin` agrees. */
function isSameOriginBrowserRequest(request: IncomingMessage): boolean {
  const origin = request.headers.origin;
  return (
    request.headers['sec-fetch-site'] === 'same-origin' &&
    origin !== undefined &&
    sameOrigin(origin, request.headers.host)
  );
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  try {
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
