import fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { checkIdempotencyKey, orderIdForKey, requestDigest } from './idempotency-key.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('idempotency keys', () => {
  it('takes 1-200 visible ASCII characters and refuses anything else with 400', () => {
    expect(checkIdempotencyKey(undefined)).toBeUndefined();
    expect(checkIdempotencyKey('4f1c-retry:1')).toBe('4f1c-retry:1');
    expect(checkIdempotencyKey('x'.repeat(200))).toBe('x'.repeat(200));
    for (const bad of ['', 'a b', 'x'.repeat(201), 'é', 'tab\there']) {
      expect(() => checkIdempotencyKey(bad)).toThrow(/Idempotency-Key must be/);
    }
  });

  it('derives one version-4 UUID per key, the same on every call, different for different keys (property)', () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1 }), fc.string({ minLength: 1 }), (a, b) => {
        expect(orderIdForKey(a)).toMatch(UUID_V4);
        expect(orderIdForKey(a)).toBe(orderIdForKey(a));
        expect(orderIdForKey(a) === orderIdForKey(b)).toBe(a === b);
      }),
      propertyParameters(500),
    );
  });

  it('digests equal requests alike and different ones apart', () => {
    const order = { email: 'a@b.co', items: [{ productId: '1', quantity: 2 }] };
    expect(requestDigest(order)).toBe(requestDigest(structuredClone(order)));
    expect(requestDigest(order)).not.toBe(requestDigest({ ...order, items: [{ productId: '1', quantity: 3 }] }));
  });
});
