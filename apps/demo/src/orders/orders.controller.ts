import {
  Body,
  Controller,
  Get,
  Headers,
  HttpCode,
  NotFoundException,
  Param,
  ParseUUIDPipe,
  Post,
  UseGuards,
} from '@nestjs/common';
import { ThrottlerGuard } from '@nestjs/throttler';
import { CreateOrderDto } from './create-order.dto.js';
import { checkIdempotencyKey } from './idempotency-key.js';
import { type OrderView, OrdersService } from './orders.service.js';

@Controller('orders')
export class OrdersController {
  constructor(private readonly orders: OrdersService) {}

  /**
   * 202: the order is stored and its tasks are queued; GET /orders/:id shows their progress. With an
   * `Idempotency-Key`, a retry of the same request answers the same order and queues nothing new.
   */
  @Post()
  @HttpCode(202)
  @UseGuards(ThrottlerGuard)
  place(@Body() dto: CreateOrderDto, @Headers('idempotency-key') key: string | undefined): Promise<OrderView> {
    return this.orders.place(dto, checkIdempotencyKey(key));
  }

  @Get(':id')
  async find(@Param('id', new ParseUUIDPipe({ version: '4' })) id: string): Promise<OrderView> {
    const order = await this.orders.find(id);
    if (!order) throw new NotFoundException(`order ${id} does not exist`);
    return order;
  }
}
