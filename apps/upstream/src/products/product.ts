export interface Product {
  id: string;
  name: string;
  priceCents: number;
  stock: number;
  /** Incremented on every write; lets clients tell a fresh read from a stale one. */
  version: number;
  updatedAt: string;
}

export interface ProductUpdate {
  name?: string;
  priceCents?: number;
  stock?: number;
}

export interface Reservation {
  orderId: string;
  productId: string;
  quantity: number;
}
