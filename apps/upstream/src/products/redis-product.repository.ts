import { Redis } from 'ioredis';
import { ProductRepository, seedProduct } from './product.repository.js';
import type { Product, ProductUpdate, Reservation } from './product.js';

// Read-modify-write in one script so concurrent writers on different nodes never lose an update.
const UPDATE = `
local raw = redis.call('GET', KEYS[1])
local current = raw and cjson.decode(raw) or cjson.decode(ARGV[1])
local changes = cjson.decode(ARGV[2])
for k, v in pairs(changes) do current[k] = v end
current.version = current.version + 1
current.updatedAt = ARGV[3]
local encoded = cjson.encode(current)
redis.call('SET', KEYS[1], encoded)
return encoded`;

const RESERVE = `
if redis.call('SET', KEYS[2], '1', 'NX') == false then return {'duplicate', redis.call('GET', KEYS[1]) or ARGV[1]} end
local raw = redis.call('GET', KEYS[1])
local current = raw and cjson.decode(raw) or cjson.decode(ARGV[1])
local quantity = tonumber(ARGV[2])
if current.stock < quantity then redis.call('DEL', KEYS[2]) return {'insufficient', cjson.encode(current)} end
current.stock = current.stock - quantity
current.version = current.version + 1
current.updatedAt = ARGV[3]
local encoded = cjson.encode(current)
redis.call('SET', KEYS[1], encoded)
return {'reserved', encoded}`;

/** Shared by upstream processes in the distributed mode. */
export class RedisProductRepository extends ProductRepository {
  private readonly redis: Redis;

  constructor(
    url: string,
    private readonly prefix = 'upstream',
  ) {
    super();
    this.redis = new Redis(url, { maxRetriesPerRequest: 1 });
    this.redis.on('error', () => {
      // Surfaced to callers as rejected commands (→ 5xx), which is what the balancer should see.
    });
  }

  async find(id: string): Promise<Product | undefined> {
    const seed = seedProduct(id, new Date(0).toISOString());
    if (!seed) return undefined;
    const raw = await this.redis.get(this.key(id));
    return raw ? (JSON.parse(raw) as Product) : seed;
  }

  async update(id: string, changes: ProductUpdate): Promise<Product | undefined> {
    const seed = seedProduct(id, new Date(0).toISOString());
    if (!seed) return undefined;
    const raw = (await this.redis.eval(
      UPDATE,
      1,
      this.key(id),
      JSON.stringify(seed),
      JSON.stringify(changes),
      new Date().toISOString(),
    )) as string;
    return JSON.parse(raw) as Product;
  }

  async reserve({ orderId, productId, quantity }: Reservation) {
    const seed = seedProduct(productId, new Date(0).toISOString());
    if (!seed) return { reserved: false, duplicate: false };
    const [outcome, raw] = (await this.redis.eval(
      RESERVE,
      2,
      this.key(productId),
      `${this.prefix}:reservation:${orderId}:${productId}`,
      JSON.stringify(seed),
      String(quantity),
      new Date().toISOString(),
    )) as [string, string];
    const product = JSON.parse(raw) as Product;
    return { reserved: outcome !== 'insufficient', product, duplicate: outcome === 'duplicate' };
  }

  async close(): Promise<void> {
    this.redis.disconnect();
  }

  private key(id: string): string {
    return `${this.prefix}:product:${id}`;
  }
}
