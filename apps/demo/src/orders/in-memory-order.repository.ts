import { OrderRepository } from './order.repository.js';
import type { Order } from './order.js';

/** Orders of the embedded mode, kept for `retentionMs` and at most `maxOrders` (the oldest go first). */
export class InMemoryOrderRepository extends OrderRepository {
  private readonly orders = new Map<string, { order: Order; storedAt: number }>();

  constructor(
    private readonly maxOrders = 10_000,
    private readonly retentionMs = 24 * 3600_000,
  ) {
    super();
  }

  async saveIfAbsent(order: Order): Promise<Order> {
    const existing = await this.find(order.id);
    if (existing) return existing;
    this.orders.set(order.id, { order, storedAt: performance.now() });
    this.prune();
    return order;
  }

  async find(id: string): Promise<Order | undefined> {
    const entry = this.orders.get(id);
    if (entry === undefined) return undefined;
    if (performance.now() - entry.storedAt > this.retentionMs) {
      this.orders.delete(id);
      return undefined;
    }
    return entry.order;
  }

  /** The Map iterates in insertion order, so the oldest orders are first. */
  private prune(): void {
    const cutoff = performance.now() - this.retentionMs;
    for (const [id, { storedAt }] of this.orders) {
      if (this.orders.size <= this.maxOrders && storedAt >= cutoff) break;
      this.orders.delete(id);
    }
  }
}
