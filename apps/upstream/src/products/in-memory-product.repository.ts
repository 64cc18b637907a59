import { ProductRepository, seedProduct } from './product.repository.js';
import type { Product, ProductUpdate, Reservation } from './product.js';

/** One store object can be shared by several upstream apps in one process (the embedded demo). */
export class InMemoryProductRepository extends ProductRepository {
  private readonly products = new Map<string, Product>();
  private readonly reservations = new Set<string>();

  async find(id: string): Promise<Product | undefined> {
    return this.load(id);
  }

  async update(id: string, changes: ProductUpdate): Promise<Product | undefined> {
    const current = this.load(id);
    if (!current) return undefined;
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const next = { ...current, ...defined, version: current.version + 1, updatedAt: new Date().toISOString() };
    this.products.set(id, next);
    return next;
  }

  async reserve({ orderId, productId, quantity }: Reservation) {
    const product = this.load(productId);
    if (!product) return { reserved: false, duplicate: false };
    const key = `${orderId}:${productId}`;
    if (this.reservations.has(key)) return { reserved: true, product, duplicate: true };
    if (product.stock < quantity) return { reserved: false, product, duplicate: false };
    this.reservations.add(key);
    const next = await this.update(productId, { stock: product.stock - quantity });
    return { reserved: true, product: next, duplicate: false };
  }

  async close(): Promise<void> {}

  private load(id: string): Product | undefined {
    let product = this.products.get(id);
    if (!product) {
      product = seedProduct(id, new Date(0).toISOString());
      if (product) this.products.set(id, product);
    }
    return product;
  }
}
