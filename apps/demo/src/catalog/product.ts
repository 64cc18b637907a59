/** A product as the upstream service returns it. */
export interface Product {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
  version: number;
  updatedAt: string;
}
