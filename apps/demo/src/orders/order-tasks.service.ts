import { Injectable } from '@nestjs/common';
import { InjectLoadBalancedHttpClient, type LoadBalancedHttpClient } from '@nest-scale/load-balancer';
import { NonRetryableError, type TaskContext, TaskHandler } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';

export const RESERVE_STOCK = 'reserve-stock';
export const SEND_CONFIRMATION = 'send-confirmation';

export interface ReserveStockPayload {
  orderId: string;
  productId: string;
  quantity: number;
}

export interface SendConfirmationPayload {
  orderId: string;
  email: string;
}

/** Background work of an order. Both upstream calls are idempotent by orderId, so a retried task is harmless. */
@Injectable()
export class OrderTasks {
  constructor(@InjectLoadBalancedHttpClient(CATALOG_UPSTREAM) private readonly upstream: LoadBalancedHttpClient) {}

  @TaskHandler(RESERVE_STOCK, { attempts: 5, timeoutMs: 5_000 })
  async reserveStock(payload: ReserveStockPayload, context: TaskContext) {
    const response = await this.upstream.post('/inventory/reservations', payload, {
      idempotent: true,
      signal: context.signal,
    });
    if (response.status === 404 || response.status === 409 || response.status === 400) {
      // The order cannot be fulfilled as placed; retrying would not change that.
      throw new NonRetryableError(`stock for product ${payload.productId} not reserved: ${response.text()}`);
    }
    if (!response.ok) throw new Error(`inventory service answered ${response.status}`);
    return response.json<{ stock: number; duplicate: boolean }>();
  }

  @TaskHandler(SEND_CONFIRMATION, { attempts: 5, timeoutMs: 5_000 })
  async sendConfirmation(payload: SendConfirmationPayload, context: TaskContext) {
    const response = await this.upstream.post('/notifications/order-confirmations', payload, {
      idempotent: true,
      signal: context.signal,
    });
    if (!response.ok) throw new Error(`notification service answered ${response.status}`);
    return response.json<{ sentBy: string }>();
  }
}
