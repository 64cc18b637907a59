import type { Cluster, Redis } from 'ioredis';
import { OrderRepository } from './order.repository.js';
import type { Order } from './order.js';

const ORDER_TTL_SECONDS = 7 * 24 * 3600;

export class RedisOrderRepository extends OrderRepository {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = 'demo',
  ) {
    super();
    this.redis.on('error', () => {
      // Commands reject while Redis is down; the controller turns that into a 503.
    });
  }

  async save(order: Order): Promise<void> {
    await this.redis.set(this.key(order.id), JSON.stringify(order), 'EX', ORDER_TTL_SECONDS);
  }

  async find(id: string): Promise<Order | undefined> {
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as Order) : undefined;
  }

  async close(): Promise<void> {
    await this.redis.quit().catch(() => this.redis.disconnect());
  }

  private key(id: string): string {
    return `${this.prefix}:order:${id}`;
  }
}
