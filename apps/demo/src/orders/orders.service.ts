import { Injectable } from '@nestjs/common';
import { TaskQueue, type TaskInfo, type TaskState } from '@nest-scale/task-queue';
import { randomUUID } from 'node:crypto';
import type { CreateOrderDto } from './create-order.dto.js';
import { RESERVE_STOCK, SEND_CONFIRMATION } from './order-tasks.service.js';
import { OrderRepository } from './order.repository.js';
import type { Order } from './order.js';

/**
 * `expired`: the queue no longer holds the task. Dead tasks are always kept, so such a task completed and was
 * dropped from the bounded history of completed tasks (`keepCompleted`).
 */
export type OrderTaskState = TaskState | 'expired';

export interface OrderView extends Omit<Order, 'tasks'> {
  status: 'processing' | 'completed' | 'failed';
  tasks: (Pick<TaskInfo, 'id' | 'name' | 'attemptsMade' | 'error'> & { state: OrderTaskState })[];
}

@Injectable()
export class OrdersService {
  constructor(
    private readonly tasks: TaskQueue,
    private readonly orders: OrderRepository,
  ) {}

  /** Stores the order, then enqueues its tasks in one batch (one Redis round trip with BullMQ). */
  async place(dto: CreateOrderDto): Promise<OrderView> {
    const id = randomUUID();
    const items = dto.items.map(({ productId, quantity }) => ({ productId, quantity }));
    const refs = await this.tasks.enqueueMany([
      ...items.map((item) => ({
        name: RESERVE_STOCK,
        payload: { orderId: id, ...item },
        options: { dedupKey: `order:${id}:reserve:${item.productId}` },
      })),
      {
        name: SEND_CONFIRMATION,
        payload: { orderId: id, email: dto.email },
        options: { dedupKey: `order:${id}:confirm` },
      },
    ]);
    const order: Order = {
      id,
      email: dto.email,
      items,
      createdAt: new Date().toISOString(),
      tasks: refs.map(({ id: taskId, name }) => ({ id: taskId, name })),
    };
    await this.orders.save(order);
    return this.view(order);
  }

  async find(id: string): Promise<OrderView | undefined> {
    const order = await this.orders.find(id);
    return order && this.view(order);
  }

  private async view({ tasks: refs, ...order }: Order): Promise<OrderView> {
    const tasks = await Promise.all(
      refs.map(async ({ id, name }) => {
        const info = await this.tasks.getTask(id);
        return info
          ? { id, name, state: info.state, attemptsMade: info.attemptsMade, error: info.error }
          : { id, name, state: 'expired' as const, attemptsMade: 0 };
      }),
    );
    const status = tasks.some((t) => t.state === 'failed')
      ? 'failed'
      : tasks.every((t) => t.state === 'completed' || t.state === 'expired')
        ? 'completed'
        : 'processing';
    return { ...order, status, tasks };
  }
}
