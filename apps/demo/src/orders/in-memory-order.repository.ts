import { OrderRepository } from './order.repository.js';
import type { Order } from './order.js';

export class InMemoryOrderRepository extends OrderRepository {
  private readonly orders = new Map<string, Order>();

  async save(order: Order): Promise<void> {
    this.orders.set(order.id, order);
  }

  async find(id: string): Promise<Order | undefined> {
    return this.orders.get(id);
  }

  async close(): Promise<void> {}
}
