import { Injectable, UnprocessableEntityException } from '@nestjs/common';
import { TaskQueue, type TaskInfo, type TaskState } from '@nest-scale/task-queue';
import { randomUUID } from 'node:crypto';
import { requireDependency } from '../errors/dependency-unavailable.error.js';
import type { CreateOrderDto } from './create-order.dto.js';
import { orderIdForKey, requestDigest } from './idempotency-key.js';
import { RESERVE_STOCK, SEND_CONFIRMATION } from './order-tasks.service.js';
import { OrderRepository } from './order.repository.js';
import type { Order } from './order.js';

/**
 * `expired`: the queue no longer holds the task: it finished longer ago than the queue keeps finished tasks
 * (`retention`: `TASK_RETENTION_COUNT` of each kind, completed for 24 h, dead for 7 days), so how it ended is no longer
 * known.
 */
export type OrderTaskState = TaskState | 'expired';

export interface OrderView extends Omit<Order, 'tasks' | 'requestDigest'> {
  /** `expired`: every task finished, but how some ended is no longer known (see `OrderTaskState`). */
  status: 'processing' | 'completed' | 'failed' | 'expired';
  /** Errors carry a name and message only: stacks, with server paths, stay in the logs. */
  tasks: (Pick<TaskInfo, 'id' | 'name' | 'attemptsMade'> & {
    state: OrderTaskState;
    error?: { name: string; message: string };
  })[];
}

const TASK_QUEUE = 'task queue';

@Injectable()
export class OrdersService {
  constructor(
    private readonly tasks: TaskQueue,
    private readonly orders: OrderRepository,
  ) {}

  /**
   * Enqueues the order's tasks in one batch (one Redis round trip with BullMQ), then stores the order. With an
   * idempotency key the order id and the tasks' dedup keys follow from the key, so a retry after any failure, on any
   * gateway, returns the same order and enqueues nothing new.
   */
  async place(dto: CreateOrderDto, idempotencyKey?: string): Promise<OrderView> {
    const items = dto.items.map(({ productId, quantity }) => ({ productId, quantity }));
    const digest = idempotencyKey === undefined ? undefined : requestDigest({ email: dto.email, items });
    const id = idempotencyKey === undefined ? randomUUID() : orderIdForKey(idempotencyKey);
    if (digest !== undefined) {
      const earlier = await this.orders.find(id);
      if (earlier) return this.view(this.sameRequest(earlier, digest));
    }
    const refs = await requireDependency(TASK_QUEUE, () =>
      this.tasks.enqueueMany([
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
      ]),
    );
    const order: Order = {
      id,
      email: dto.email,
      items,
      createdAt: new Date().toISOString(),
      tasks: refs.map(({ id: taskId, name }) => ({ id: taskId, name })),
      ...(digest === undefined ? {} : { requestDigest: digest }),
    };
    const stored = await this.orders.saveIfAbsent(order);
    return this.view(digest === undefined ? stored : this.sameRequest(stored, digest));
  }

  async find(id: string): Promise<OrderView | undefined> {
    const order = await this.orders.find(id);
    return order && this.view(order);
  }

  private sameRequest(order: Order, digest: string): Order {
    if (order.requestDigest !== digest) {
      throw new UnprocessableEntityException(
        'this Idempotency-Key was already used for a different order; use a new key for a new order',
      );
    }
    return order;
  }

  private async view({ tasks: refs, requestDigest: _digest, ...order }: Order): Promise<OrderView> {
    const tasks = await Promise.all(
      refs.map(async ({ id, name }) => {
        const info = await requireDependency(TASK_QUEUE, () => this.tasks.getTask(id));
        if (!info) return { id, name, state: 'expired' as const, attemptsMade: 0 };
        const error = info.error && { name: info.error.name, message: info.error.message };
        return { id, name, state: info.state, attemptsMade: info.attemptsMade, ...(error ? { error } : {}) };
      }),
    );
    const status = tasks.some((t) => t.state === 'failed')
      ? 'failed'
      : tasks.every((t) => t.state === 'completed')
        ? 'completed'
        : tasks.every((t) => t.state === 'completed' || t.state === 'expired')
          ? 'expired'
          : 'processing';
    return { ...order, status, tasks };
  }
}
