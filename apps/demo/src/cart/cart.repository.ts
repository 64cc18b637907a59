import type { Cart } from './cart.js';

/**
 * Carts by session id. Every change is one atomic step on the store, so two gateways changing one cart at once both
 * land (no read-modify-write of a whole session).
 */
export abstract class CartRepository {
  abstract get(cartId: string): Promise<Cart>;
  /** Adds `quantity` of the product; rejects with `CartLimitError` past the limits, changing nothing. */
  abstract add(cartId: string, productId: string, quantity: number): Promise<Cart>;
  abstract remove(cartId: string, productId: string): Promise<Cart>;
  /** Empties the cart if it is still at `version` (nothing was added since the checkout read it). */
  abstract clearIfUnchanged(cartId: string, version: number): Promise<void>;
}
