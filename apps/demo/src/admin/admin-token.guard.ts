import { type CanActivate, type ExecutionContext, Injectable, UnauthorizedException } from '@nestjs/common';
import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { DemoConfig } from '../config/demo-config.js';

/**
 * Admin endpoints and bull-board: `Authorization: Bearer <ADMIN_TOKEN>`, or HTTP Basic with the token as the password
 * (what a browser sends after its login prompt).
 */
@Injectable()
export class AdminTokenGuard implements CanActivate {
  constructor(private readonly config: DemoConfig) {}

  canActivate(context: ExecutionContext): boolean {
    const request = context.switchToHttp().getRequest<IncomingMessage>();
    if (!isAdminRequest(request, this.config.adminToken)) {
      throw new UnauthorizedException(ADMIN_AUTH_MESSAGE);
    }
    return true;
  }
}

export const ADMIN_AUTH_MESSAGE =
  'admin endpoints need "Authorization: Bearer <ADMIN_TOKEN>" (or HTTP Basic with the token as the password)';

export function isAdminRequest(request: IncomingMessage, token: string): boolean {
  const given = Buffer.from(presentedToken(request.headers.authorization ?? ''));
  const expected = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

function presentedToken(header: string): string {
  if (header.startsWith('Bearer ')) return header.slice(7);
  if (header.startsWith('Basic ')) {
    const decoded = Buffer.from(header.slice(6), 'base64').toString('utf8');
    return decoded.slice(decoded.indexOf(':') + 1);
  }
  return '';
}
