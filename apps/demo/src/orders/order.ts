export interface OrderItem {
  productId: string;
  quantity: number;
}

export interface Order {
  id: string;
  email: string;
  items: OrderItem[];
  createdAt: string;
  /** Ids of the tasks that carry the order out, in the order they were enqueued. */
  taskIds: string[];
}
