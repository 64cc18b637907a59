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
}
