import type { IncomingMessage } from 'node:http';
import { refuseAdminRequest } from './admin-token.guard.js';

const TOKEN = 'an-admin-token-of-16+';
const bearer = `Bearer ${TOKEN}`;
const basic = `Basic ${Buffer.from(`admin:${TOKEN}`).toString('base64')}`;

function request(method: string, headers: Record<string, string> = {}): IncomingMessage {
  return { method, headers: { host: 'gateway:3000', ...headers } } as unknown as IncomingMessage;
}

describe('refuseAdminRequest', () => {
  it('lets reads through with the token as Bearer or as the Basic password, and refuses anything else with 401', () => {
    expect(refuseAdminRequest(request('GET', { authorization: bearer }), TOKEN)).toBeUndefined();
    expect(refuseAdminRequest(request('GET', { authorization: basic }), TOKEN)).toBeUndefined();
    for (const authorization of [
      '',
      'Bearer wrong',
      `Bearer ${TOKEN}x`,
      `Basic ${Buffer.from('admin:nope').toString('base64')}`,
      TOKEN,
    ]) {
      expect(refuseAdminRequest(request('GET', { authorization }), TOKEN)?.status).toBe(401);
    }
  });

  it('lets changes through with the Bearer token, from no Origin or this origin', () => {
    expect(refuseAdminRequest(request('POST', { authorization: bearer }), TOKEN)).toBeUndefined();
    expect(
      refuseAdminRequest(request('POST', { authorization: bearer, origin: 'http://gateway:3000' }), TOKEN),
    ).toBeUndefined();
    expect(
      refuseAdminRequest(request('POST', { authorization: bearer, 'content-type': 'application/json' }), TOKEN),
    ).toBeUndefined();
  });

  it('refuses what a cross-site page can make a browser send (CSRF)', () => {
    const crossSite = [
      { origin: 'http://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
    ];
    for (const headers of crossSite) {
      expect(refuseAdminRequest(request('POST', { authorization: basic, ...headers }), TOKEN)?.status).toBe(403);
      expect(refuseAdminRequest(request('POST', { authorization: bearer, ...headers }), TOKEN)?.status).toBe(403);
    }
    for (const type of [
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=x',
      'text/plain',
      ' TEXT/PLAIN;charset=utf-8',
    ]) {
      expect(refuseAdminRequest(request('POST', { authorization: bearer, 'content-type': type }), TOKEN)?.status).toBe(
        415,
      );
    }
  });

  it('accepts Basic for changes only from a same-origin fetch (bull-board’s own page)', () => {
    expect(refuseAdminRequest(request('POST', { authorization: basic }), TOKEN)?.status).toBe(401);
    expect(
      refuseAdminRequest(request('PUT', { authorization: basic, origin: 'http://gateway:3000' }), TOKEN)?.status,
    ).toBe(401);
    expect(
      refuseAdminRequest(
        request('PUT', { authorization: basic, origin: 'http://gateway:3000', 'sec-fetch-site': 'same-origin' }),
        TOKEN,
      ),
    ).toBeUndefined();
  });
});
