import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { LoadBalancedHttpClient } from './load-balanced-http-client.js';

const NAMES = ['content-type', 'x-trace', 'accept', 'x-tenant'];
const headerMap = fc.array(fc.tuple(fc.mixedCase(fc.constantFrom(...NAMES)), fc.stringMatching(/^[!-~]{1,12}$/)), {
  maxLength: 6,
});

/** What the wire must carry: one field per name (any case), the request's value over the default's, last one wins. */
function expected(defaults: Array<[string, string]>, request: Array<[string, string]>, objectBody: boolean) {
  const merged = new Map<string, string>();
  const requested = new Map<string, string>();
  for (const [name, value] of defaults) merged.set(name.toLowerCase(), value);
  for (const [name, value] of request) requested.set(name.toLowerCase(), value);
  for (const [name, value] of requested) merged.set(name, value);
  if (objectBody && !merged.has('content-type')) merged.set('content-type', 'application/json');
  return merged;
}

describe('LoadBalancedHttpClient header merge (defect 25), against a real server', () => {
  let server: Server;
  let port: number;
  let raw: string[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      raw = req.rawHeaders;
      req.resume();
      req.on('end', () => res.end('ok'));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('defect 25: every header name reaches the server once, whatever the case mix of defaults and request', async () => {
    const lb = new LoadBalancer({ nodes: [{ id: 'raw', host: '127.0.0.1', port }] });
    await fc.assert(
      fc.asyncProperty(headerMap, headerMap, fc.boolean(), async (defaults, request, objectBody) => {
        const client = new LoadBalancedHttpClient(lb, { headers: Object.fromEntries(defaults) });
        try {
          await client.post('/h', objectBody ? { a: 1 } : 'text', { headers: Object.fromEntries(request) });
        } finally {
          await client.close();
        }
        const want = expected(
          Object.entries(Object.fromEntries(defaults)),
          Object.entries(Object.fromEntries(request)),
          objectBody,
        );
        const seen = new Map<string, string[]>();
        for (let i = 0; i < raw.length; i += 2) {
          const name = raw[i].toLowerCase();
          if (NAMES.includes(name)) seen.set(name, [...(seen.get(name) ?? []), raw[i + 1]]);
        }
        expect(Object.fromEntries(seen)).toEqual(Object.fromEntries([...want].map(([k, v]) => [k, [v]])));
      }),
      propertyParameters(60),
    );
  });
});
