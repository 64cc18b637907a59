import type { OnApplicationShutdown } from '@nestjs/common';
import type { Order } from './order.js';

/** Where the gateway keeps orders: in memory (embedded) or in Redis, shared by every gateway instance. */
export abstract class OrderRepository implements OnApplicationShutdown {
  /** Stores the order unless one with its id exists; resolves the stored one (this one, or the earlier). */
  abstract saveIfAbsent(order: Order): Promise<Order>;
  abstract find(id: string): Promise<Order | undefined>;
  abstract close(): Promise<void>;

  onApplicationShutdown(): Promise<void> {
    return this.close();
  }
}
