/** A product as the upstream service returns it. */
export interface Product {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
  version: number;
  updatedAt: string;
}

/** Whether a value (from the cache, which other versions or tools may have written) has the shape of a product. */
export function isProduct(value: unknown): value is Product {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return (
    typeof p.id === 'string' &&
    typeof p.name === 'string' &&
    Number.isInteger(p.priceCents) &&
    Number.isInteger(p.stock) &&
    Number.isInteger(p.version) &&
    typeof p.updatedAt === 'string'
  );
}
