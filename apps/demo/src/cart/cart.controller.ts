import { Body, Controller, Delete, Get, Headers, HttpCode, Param, Post, Req, UseGuards } from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import type { FastifyRequest } from 'fastify';
import { ProductIdPipe } from '../catalog/product-id.pipe.js';
import { checkIdempotencyKey } from '../orders/idempotency-key.js';
import type { OrderView } from '../orders/orders.service.js';
import type { Cart } from './cart.js';
import { CartItemDto } from './cart-item.dto.js';
import { CartService } from './cart.service.js';
import { CheckoutDto } from './checkout.dto.js';

/**
 * A shopping cart in the server-side session: the session cookie names it, the cart store (Redis in the distributed
 * mode) holds it, so any gateway serves any request of a session.
 */
@Controller('cart')
export class CartController {
  constructor(private readonly carts: CartService) {}

  @Get()
  get(@Req() request: FastifyRequest): Promise<Cart> {
    return this.carts.get(request.session.sessionId);
  }

  @Post('items')
  @HttpCode(200)
  add(@Req() request: FastifyRequest, @Body() item: CartItemDto): Promise<Cart> {
    // Marks the session as used, so it is stored and its cookie sent.
    request.session.set('hasCart', true);
    return this.carts.add(request.session.sessionId, item.productId, item.quantity);
  }

  @Delete('items/:productId')
  remove(@Req() request: FastifyRequest, @Param('productId', ProductIdPipe) productId: string): Promise<Cart> {
    return this.carts.remove(request.session.sessionId, productId);
  }

  /** 202 with the order, as `POST /orders` answers. */
  @Post('checkout')
  @HttpCode(202)
  @UseGuards(ThrottlerGuard)
  checkout(
    @Req() request: FastifyRequest,
    @Body() body: CheckoutDto,
    @Headers('idempotency-key') key: string | undefined,
  ): Promise<OrderView> {
    return this.carts.checkout(request.session.sessionId, body.email, checkIdempotencyKey(key));
  }
}
