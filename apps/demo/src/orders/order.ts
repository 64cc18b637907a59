export interface OrderItem {
  productId: string;
  quantity: number;
}

export interface Order {
  id: string;
  email: string;
  items: OrderItem[];
  createdAt: string;
  /** The tasks that carry the order out, in the order they were enqueued. */
  tasks: { id: string; name: string }[];
  /** For an order placed with an `Idempotency-Key`: a digest of the request, to refuse the key's reuse for another. */
  requestDigest?: string;
}

/** Reads a stored order, or undefined when the record is not one (written by another version, or corrupted). */
export function parseOrder(raw: string): Order | undefined {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const order = value as Partial<Order>;
  const valid =
    typeof order.id === 'string' &&
    typeof order.email === 'string' &&
    typeof order.createdAt === 'string' &&
    Array.isArray(order.items) &&
    order.items.every((i) => typeof i?.productId === 'string' && Number.isInteger(i.quantity)) &&
    Array.isArray(order.tasks) &&
    order.tasks.every((t) => typeof t?.id === 'string' && typeof t.name === 'string') &&
    (order.requestDigest === undefined || typeof order.requestDigest === 'string');
  return valid ? (order as Order) : undefined;
}
