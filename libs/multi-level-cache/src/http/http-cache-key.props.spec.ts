import * as fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { requestKey, withVary, type KeyedRequest } from './http-cache-key.js';

/** Query parameter names and values as they appear in a request target (no "&", "=", "#" or space). */
const token = fc.stringMatching(/^[A-Za-z0-9%._~:$-]{0,6}$/);
const param = fc.record({ name: token.filter((t) => t.length > 0), value: token });
/** Header values a client may send: any visible text, also ";", ",", "=" and "sha256:"-looking text. */
const headerValue = fc.oneof(
  fc.stringMatching(/^[\x20-\x7e]{0,80}$/),
  fc.constantFrom('', 'Bearer a', 'Bearer b', 'sid=1; theme=dark', 'sha256:abc'),
);
const VARY = ['accept-language', 'authorization', 'cookie'] as const;
const headers = fc.record(
  { 'accept-language': headerValue, authorization: headerValue, cookie: headerValue },
  { requiredKeys: [] },
);

const req = (target: string, h: KeyedRequest['headers'] = {}): KeyedRequest => ({
  method: 'GET',
  url: target,
  headers: h,
});
const target = (path: string, params: { name: string; value: string }[]) =>
  params.length === 0 ? path : `${path}?${params.map((p) => `${p.name}=${p.value}`).join('&')}`;
const key = (h: KeyedRequest['headers']) => withVary(requestKey(req('/r')), VARY, h);

describe('HTTP cache keys', () => {
  it('do not depend on the order of query parameters with different names', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(param, { selector: (p) => p.name, maxLength: 6 }),
        fc.infiniteStream(fc.nat()),
        (params, randoms) => {
          const shuffled = [...params];
          for (let i = shuffled.length - 1; i > 0; i--) {
            const j = randoms.next().value % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j], shuffled[i]];
          }
          expect(requestKey(req(target('/p', shuffled)))).toBe(requestKey(req(target('/p', params))));
        },
      ),
      propertyParameters(300),
    );
  });

  it('tell apart two queries that differ in a value, or in the order of one parameter’s values', () => {
    fc.assert(
      fc.property(fc.array(param, { maxLength: 6 }), fc.array(param, { maxLength: 6 }), (a, b) => {
        // Equal keys only when the parameters agree once sorted by name (values of a name in their order).
        const canonical = (ps: typeof a) =>
          JSON.stringify(
            ps
              .map((p, i) => [p.name, i, p.value] as const)
              .toSorted(byNameThenPosition)
              .map(dropIndex),
          );
        const same = canonical(a) === canonical(b);
        expect(requestKey(req(target('/p', a))) === requestKey(req(target('/p', b)))).toBe(same);
      }),
      propertyParameters(300),
    );
  });

  it('key leak: two requests share a key only when every varied header has the same value', () => {
    fc.assert(
      fc.property(headers, headers, (a, b) => {
        const same = VARY.every((name) => (a[name] ?? '') === (b[name] ?? ''));
        expect(key(a) === key(b)).toBe(same);
      }),
      propertyParameters(300),
    );
  });

  it('never hold a credential, or a long header value, in clear', () => {
    fc.assert(
      fc.property(
        headerValue.filter((v) => v.length >= 8),
        (secret) => {
          const k = key({ authorization: secret, cookie: secret, 'accept-language': `${secret}${'x'.repeat(64)}` });
          expect(k.includes(secret)).toBe(false);
        },
      ),
      propertyParameters(300),
    );
  });
});

function byNameThenPosition(x: readonly [string, number, string], y: readonly [string, number, string]): number {
  if (x[0] !== y[0]) return x[0] < y[0] ? -1 : 1;
  return x[1] - y[1];
}

function dropIndex([name, , value]: readonly [string, number, string]): [string, string] {
  return [name, value];
}
