import type { Cluster, Redis } from 'ioredis';
import { DependencyUnavailableError, requireDependency } from '../errors/dependency-unavailable.error.js';
import { OrderRepository } from './order.repository.js';
import { type Order, parseOrder } from './order.js';

const ORDER_TTL_SECONDS = 7 * 24 * 3600;
const ORDER_STORE = 'order store (Redis)';

export class RedisOrderRepository extends OrderRepository {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = 'demo',
  ) {
    super();
  }

  async saveIfAbsent(order: Order): Promise<Order> {
    const stored = await requireDependency(ORDER_STORE, () =>
      this.redis.set(this.key(order.id), JSON.stringify(order), 'EX', ORDER_TTL_SECONDS, 'NX'),
    );
    if (stored === 'OK') return order;
    return (await this.find(order.id)) ?? order;
  }

  async find(id: string): Promise<Order | undefined> {
    const raw = await requireDependency(ORDER_STORE, () => this.redis.get(this.key(id)));
    if (raw === null) return undefined;
    const order = parseOrder(raw);
    if (order === undefined) {
      throw new DependencyUnavailableError(ORDER_STORE, `the record of order ${id} is not a readable order`);
    }
    return order;
  }

  private key(id: string): string {
    return `${this.prefix}:order:${id}`;
  }
}
