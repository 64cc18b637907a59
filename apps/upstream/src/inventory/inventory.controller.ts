import { Body, Controller, ConflictException, HttpCode, NotFoundException, Post } from '@nestjs/common';
import { ProductRepository } from '../products/product.repository.js';
import { UpstreamConfig } from '../upstream.config.js';
import { ReserveStockDto } from './reserve-stock.dto.js';

@Controller()
export class InventoryController {
  /** Confirmations this node sent; a retried task may call again, so callers dedupe by orderId. */
  private readonly confirmations = new Set<string>();

  constructor(
    private readonly products: ProductRepository,
    private readonly config: UpstreamConfig,
  ) {}

  @Post('inventory/reservations')
  @HttpCode(200)
  async reserve(@Body() body: ReserveStockDto) {
    const result = await this.products.reserve(body);
    if (!result.product) throw new NotFoundException(`product ${body.productId} does not exist (ids are 1..100)`);
    if (!result.reserved) {
      throw new ConflictException(`only ${result.product.stock} of product ${body.productId} left`);
    }
    return {
      orderId: body.orderId,
      productId: body.productId,
      stock: result.product.stock,
      duplicate: result.duplicate,
    };
  }

  @Post('notifications/order-confirmations')
  @HttpCode(200)
  confirm(@Body() body: { orderId?: unknown }) {
    if (typeof body?.orderId !== 'string' || body.orderId.length === 0) {
      throw new ConflictException('orderId (a non-empty string) is required');
    }
    this.confirmations.add(body.orderId);
    return { orderId: body.orderId, sentBy: this.config.nodeId };
  }
}
