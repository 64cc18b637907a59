import type { Cluster, Redis } from 'ioredis';
import { DependencyUnavailableError, requireDependency } from '../errors/dependency-unavailable.error.js';
import { OrderRepository } from './order.repository.js';
import { type Order, parseOrder } from './order.js';

const ORDER_TTL_SECONDS = 7 * 24 * 3600;
const ORDER_STORE = 'order store (Redis)';
const CLOSE_DEADLINE_MS = 1_000;

export class RedisOrderRepository extends OrderRepository {
  constructor(
    private readonly redis: Redis | Cluster,
    private readonly prefix = 'demo',
  ) {
    super();
    this.redis.on('error', () => {
      // Commands reject while Redis is down; the errors filter turns that into a 503.
    });
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

  /** QUIT flushes what is pending, but waits for a Redis that may be gone: bounded, then the socket is cut. */
  async close(): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, CLOSE_DEADLINE_MS)));
    await Promise.race([this.redis.quit().catch(() => undefined), deadline]);
    clearTimeout(timer);
    this.redis.disconnect();
  }

  private key(id: string): string {
    return `${this.prefix}:order:${id}`;
  }
}
