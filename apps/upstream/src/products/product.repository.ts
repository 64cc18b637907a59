import type { Product, ProductUpdate, Reservation } from './product.js';

/** Storage shared by every upstream node (the "database" behind the service). */
export abstract class ProductRepository {
  abstract find(id: string): Promise<Product | undefined>;
  abstract update(id: string, changes: ProductUpdate): Promise<Product | undefined>;
  /** Idempotent by orderId: reserving twice for one order takes stock once. */
  abstract reserve(reservation: Reservation): Promise<{ reserved: boolean; product?: Product; duplicate: boolean }>;
  abstract close(): Promise<void>;
}

/** The catalog every store starts with: ids 1..100. */
export function seedProduct(id: string, now: string): Product | undefined {
  const n = Number(id);
  if (!Number.isInteger(n) || n < 1 || n > 100) return undefined;
  return { id, name: `Product ${n}`, priceCents: 100 * n, stock: 1000, version: 1, updatedAt: now };
}
