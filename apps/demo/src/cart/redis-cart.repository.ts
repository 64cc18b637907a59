import type { Cluster, Redis } from 'ioredis';
import { requireDependency } from '../errors/dependency-unavailable.error.js';
import { SESSION_TTL_MS } from '../sessions/sessions.js';
import { type Cart, CartLimitError, cartLimitMessage, MAX_CART_ITEMS, MAX_ITEM_QUANTITY } from './cart.js';
import { CartRepository } from './cart.repository.js';

const CART_STORE = 'cart store (Redis)';
/** The hash field that holds the cart's version; product ids are digits, so it cannot clash. */
const VERSION_FIELD = 'v';

/**
 * One hash per cart (`<prefix>:cart:<session id>`: product id → quantity, plus its version). Each change is one Lua
 * script, atomic on the Redis side, so concurrent changes from several gateways never lose one another.
 */
const ADD_SCRIPT = `
local current = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
local next = current + tonumber(ARGV[2])
if next > tonumber(ARGV[3]) then return -1 end
if current == 0 and (redis.call('HLEN', KEYS[1]) - redis.call('HEXISTS', KEYS[1], '${VERSION_FIELD}')) >= tonumber(ARGV[4]) then return -2 end
redis.call('HSET', KEYS[1], ARGV[1], next)
redis.call('HINCRBY', KEYS[1], '${VERSION_FIELD}', 1)
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return next`;

const REMOVE_SCRIPT = `
if redis.call('HDEL', KEYS[1], ARGV[1]) == 1 then
  redis.call('HINCRBY', KEYS[1], '${VERSION_FIELD}', 1)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
end
return 1`;

const CLEAR_SCRIPT = `
if redis.call('HGET', KEYS[1], '${VERSION_FIELD}') == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

export class RedisCartRepository extends CartRepository {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix: string,
  ) {
    super();
  }

  get(cartId: string): Promise<Cart> {
    return requireDependency(CART_STORE, async () => parseCart(await this.redis.hgetall(this.key(cartId))));
  }

  async add(cartId: string, productId: string, quantity: number): Promise<Cart> {
    const result = await requireDependency(CART_STORE, () =>
      this.redis.eval(
        ADD_SCRIPT,
        1,
        this.key(cartId),
        productId,
        quantity,
        MAX_ITEM_QUANTITY,
        MAX_CART_ITEMS,
        SESSION_TTL_MS,
      ),
    );
    if (result === -1) throw new CartLimitError(cartLimitMessage(productId, 'quantity'));
    if (result === -2) throw new CartLimitError(cartLimitMessage(productId, 'items'));
    return this.get(cartId);
  }

  async remove(cartId: string, productId: string): Promise<Cart> {
    await requireDependency(CART_STORE, () =>
      this.redis.eval(REMOVE_SCRIPT, 1, this.key(cartId), productId, SESSION_TTL_MS),
    );
    return this.get(cartId);
  }

  async clearIfUnchanged(cartId: string, version: number): Promise<void> {
    await requireDependency(CART_STORE, () => this.redis.eval(CLEAR_SCRIPT, 1, this.key(cartId), String(version)));
  }

  private key(cartId: string): string {
    return `${this.prefix}:cart:${cartId}`;
  }
}

/** Fields that are not a product id with a sane quantity (another version's data, corrupted) are left out. */
function parseCart(hash: Record<string, string>): Cart {
  const items = Object.entries(hash)
    .filter(([field, value]) => /^[1-9]\d{0,5}$/.test(field) && /^[1-9]\d{0,2}$/.test(value))
    .map(([productId, quantity]) => ({ productId, quantity: Number(quantity) }))
    .filter(({ quantity }) => quantity <= MAX_ITEM_QUANTITY)
    .toSorted((a, b) => Number(a.productId) - Number(b.productId));
  const version = Number(hash[VERSION_FIELD] ?? 0);
  return { items, version: Number.isSafeInteger(version) ? version : 0 };
}
