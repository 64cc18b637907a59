import { LRUCache } from 'lru-cache';
import { SESSION_TTL_MS } from '../sessions/sessions.js';
import { type Cart, CartLimitError, cartLimitMessage, EMPTY_CART, MAX_CART_ITEMS, MAX_ITEM_QUANTITY } from './cart.js';
import { CartRepository } from './cart.repository.js';

interface StoredCart {
  items: Map<string, number>;
  version: number;
}

/** Embedded mode: carts in memory, at most 10,000 (least recently used go first), each for a session's lifetime. */
export class InMemoryCartRepository extends CartRepository {
  private readonly carts = new LRUCache<string, StoredCart>({ max: 10_000, ttl: SESSION_TTL_MS, updateAgeOnGet: true });

  async get(cartId: string): Promise<Cart> {
    const cart = this.carts.get(cartId);
    return cart ? view(cart) : EMPTY_CART;
  }

  async add(cartId: string, productId: string, quantity: number): Promise<Cart> {
    const cart = this.carts.get(cartId) ?? { items: new Map(), version: 0 };
    const next = (cart.items.get(productId) ?? 0) + quantity;
    if (next > MAX_ITEM_QUANTITY) throw new CartLimitError(cartLimitMessage(productId, 'quantity'));
    if (!cart.items.has(productId) && cart.items.size >= MAX_CART_ITEMS) {
      throw new CartLimitError(cartLimitMessage(productId, 'items'));
    }
    cart.items.set(productId, next);
    cart.version++;
    this.carts.set(cartId, cart);
    return view(cart);
  }

  async remove(cartId: string, productId: string): Promise<Cart> {
    const cart = this.carts.get(cartId);
    if (!cart) return EMPTY_CART;
    if (cart.items.delete(productId)) cart.version++;
    return view(cart);
  }

  async clearIfUnchanged(cartId: string, version: number): Promise<void> {
    if (this.carts.get(cartId)?.version === version) this.carts.delete(cartId);
  }
}

function view(cart: StoredCart): Cart {
  return {
    items: [...cart.items]
      .map(([productId, quantity]) => ({ productId, quantity }))
      .toSorted((a, b) => Number(a.productId) - Number(b.productId)),
    version: cart.version,
  };
}
