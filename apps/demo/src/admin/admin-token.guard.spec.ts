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

  it('says what is needed in each refusal', () => {
    expect(refuseAdminRequest(request('GET'), TOKEN)?.message).toMatch(/Authorization: Bearer <ADMIN_TOKEN>/);
    expect(refuseAdminRequest(request('POST', { authorization: basic }), TOKEN)?.message).toMatch(
      /admin changes need .*Bearer.*Basic.*reads only/,
    );
    expect(
      refuseAdminRequest(request('POST', { authorization: bearer, origin: 'http://evil.example' }), TOKEN)?.message,
    ).toMatch(/refused from another site/);
    expect(
      refuseAdminRequest(request('POST', { authorization: bearer, 'content-type': 'text/plain' }), TOKEN)?.message,
    ).toMatch(/JSON bodies only/);
  });

  it('treats HEAD and OPTIONS as reads, and only the Basic and Bearer schemes as credentials', () => {
    for (const method of ['HEAD', 'OPTIONS']) {
      expect(
        refuseAdminRequest(request(method, { authorization: basic, origin: 'http://evil.example' }), TOKEN),
      ).toBeUndefined();
    }
    const encoded = Buffer.from(`admin:${TOKEN}`).toString('base64');
    expect(refuseAdminRequest(request('GET', { authorization: `Token ${encoded}` }), TOKEN)?.status).toBe(401);
    expect(
      refuseAdminRequest(request('GET', { authorization: `Basic ${Buffer.from(TOKEN).toString('base64')}` }), TOKEN),
    ).toBeUndefined();
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
    const crossSite: Record<string, string>[] = [
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
    // A same-origin claim without the Origin that goes with it, or with an Origin that is not a URL, is not enough.
    expect(
      refuseAdminRequest(request('PUT', { authorization: basic, 'sec-fetch-site': 'same-origin' }), TOKEN)?.status,
    ).toBe(401);
    expect(
      refuseAdminRequest(
        request('PUT', { authorization: basic, origin: 'gateway:3000', 'sec-fetch-site': 'same-origin' }),
        TOKEN,
      )?.status,
    ).toBe(403);
  });
});
