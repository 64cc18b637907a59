import type { OrderItem } from '../orders/order.js';

/** The most of one product a cart holds, and the most distinct products: the limits of an order. */
export const MAX_ITEM_QUANTITY = 100;
export const MAX_CART_ITEMS = 20;

export interface Cart {
  items: OrderItem[];
  /** Grows with every change; a checkout is idempotent per version, and clears the cart only if it is unchanged. */
  version: number;
}

export const EMPTY_CART: Cart = { items: [], version: 0 };

/** Why a change of a cart was refused (answered as 409 with this message). */
export class CartLimitError extends Error {
  override readonly name = 'CartLimitError';
}

export const cartLimitMessage = (productId: string, code: 'quantity' | 'items'): string =>
  code === 'quantity'
    ? `the cart would hold more than ${MAX_ITEM_QUANTITY} of product ${productId}; lower the quantity`
    : `the cart would hold more than ${MAX_CART_ITEMS} different products; check out or remove some first`;
