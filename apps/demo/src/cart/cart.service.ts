import { BadRequestException, ConflictException, Injectable, NotFoundException } from '@nestjs/common';
import { CatalogService } from '../catalog/catalog.service.js';
import { isProduct } from '../catalog/product.js';
import { type OrderView, OrdersService } from '../orders/orders.service.js';
import { type Cart, CartLimitError } from './cart.js';
import { CartRepository } from './cart.repository.js';

@Injectable()
export class CartService {
  constructor(
    private readonly carts: CartRepository,
    private readonly catalog: CatalogService,
    private readonly orders: OrdersService,
  ) {}

  get(cartId: string): Promise<Cart> {
    return this.carts.get(cartId);
  }

  async add(cartId: string, productId: string, quantity: number): Promise<Cart> {
    const cached = await this.catalog.getProduct(productId);
    const product = cached === null || isProduct(cached) ? cached : await this.catalog.replaceForeign(productId);
    if (product === null) throw new NotFoundException(`product ${productId} does not exist`);
    try {
      return await this.carts.add(cartId, productId, quantity);
    } catch (error) {
      if (error instanceof CartLimitError) throw new ConflictException(error.message);
      throw error;
    }
  }

  remove(cartId: string, productId: string): Promise<Cart> {
    return this.carts.remove(cartId, productId);
  }

  /**
   * Places the cart as an order. Idempotent per cart version (the idempotency key is derived from it unless the
   * client sends one), so a retried checkout returns the same order; the cart is emptied only if nothing was added
   * while the order was placed.
   */
  async checkout(cartId: string, email: string, idempotencyKey?: string): Promise<OrderView> {
    const cart = await this.carts.get(cartId);
    if (cart.items.length === 0) throw new BadRequestException('the cart is empty; POST /cart/items first');
    const order = await this.orders.place(
      { email, items: cart.items },
      idempotencyKey ?? `cart:${cartId}:v${cart.version}`,
    );
    await this.carts.clearIfUnchanged(cartId, cart.version);
    return order;
  }
}
