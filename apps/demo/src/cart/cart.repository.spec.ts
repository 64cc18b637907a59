import { Redis } from 'ioredis';
import { redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { CartLimitError, MAX_CART_ITEMS, MAX_ITEM_QUANTITY } from './cart.js';
import type { CartRepository } from './cart.repository.js';
import { InMemoryCartRepository } from './in-memory-cart.repository.js';
import { RedisCartRepository } from './redis-cart.repository.js';

/** Both cart stores against one set of expectations. */
describe.each([
  ['in memory', async () => ({ carts: new InMemoryCartRepository() as CartRepository, close: async () => {} })],
  [
    'in Redis',
    async () => {
      const redis = new Redis(redisUrl());
      return {
        carts: new RedisCartRepository(redis, uniquePrefix('carts')) as CartRepository,
        close: async () => void redis.disconnect(),
      };
    },
  ],
] as const)('cart repository %s', (_name, open) => {
  let carts: CartRepository;
  let close: () => Promise<void>;

  beforeEach(async () => {
    ({ carts, close } = await open());
  });
  afterEach(async () => {
    await close();
  });

  it('adds, sums, removes and lists items by product id, with a version that grows on every change', async () => {
    expect(await carts.get('s1')).toEqual({ items: [], version: 0 });
    await carts.add('s1', '12', 2);
    await carts.add('s1', '3', 1);
    const cart = await carts.add('s1', '12', 5);
    expect(cart.items).toEqual([
      { productId: '3', quantity: 1 },
      { productId: '12', quantity: 7 },
    ]);
    expect(cart.version).toBe(3);
    expect((await carts.remove('s1', '3')).items).toEqual([{ productId: '12', quantity: 7 }]);
    expect((await carts.remove('s1', 'nothing')).version).toBe(4);
    expect((await carts.get('s2')).items).toEqual([]);
  });

  it('loses no update when many land at once', async () => {
    await Promise.all(Array.from({ length: 60 }, (_, i) => carts.add('busy', String(1 + (i % 6)), 1)));
    const cart = await carts.get('busy');
    expect(cart.items.map((i) => i.quantity)).toEqual(Array(6).fill(10));
    expect(cart.version).toBe(60);
  });

  it('refuses changes past the limits with CartLimitError, changing nothing', async () => {
    await carts.add('full', '1', MAX_ITEM_QUANTITY);
    await expect(carts.add('full', '1', 1)).rejects.toBeInstanceOf(CartLimitError);
    for (let i = 2; i <= MAX_CART_ITEMS; i++) await carts.add('full', String(i), 1);
    await expect(carts.add('full', '99', 1)).rejects.toThrow(/more than 20 different products/);
    const cart = await carts.get('full');
    expect(cart.items).toHaveLength(MAX_CART_ITEMS);
    expect(cart.items[0]).toEqual({ productId: '1', quantity: MAX_ITEM_QUANTITY });
  });

  it('clears a cart only at the version a checkout read', async () => {
    const { version } = await carts.add('co', '5', 1);
    await carts.add('co', '6', 1);
    await carts.clearIfUnchanged('co', version);
    expect((await carts.get('co')).items).toHaveLength(2);
    await carts.clearIfUnchanged('co', version + 1);
    expect(await carts.get('co')).toEqual({ items: [], version: 0 });
  });
});

describe('RedisCartRepository with foreign data in its hash', () => {
  it('leaves out fields that are not a product with a sane quantity', async () => {
    const redis = new Redis(redisUrl());
    const prefix = uniquePrefix('carts');
    try {
      await redis.hset(`${prefix}:cart:x`, { '7': '2', v: '3', junk: '1', '8': 'lots', '9': '-1', '10': '1000' });
      expect(await new RedisCartRepository(redis, prefix).get('x')).toEqual({
        items: [{ productId: '7', quantity: 2 }],
        version: 3,
      });
    } finally {
      redis.disconnect();
    }
  });
});
