import type { Order } from './order.js';

/** Where the gateway keeps orders: in memory (embedded) or in Redis, shared by every gateway instance. */
export abstract class OrderRepository {
  /** Stores the order unless one with its id exists; resolves the stored one (this one, or the earlier). */
  abstract saveIfAbsent(order: Order): Promise<Order>;
  abstract find(id: string): Promise<Order | undefined>;
}
