import { TaskDeque } from '../task-deque.js';
import type { ResolvedRetention } from '../task-queue.options.js';

interface Finished {
  readonly id: string;
  finishedAt: number | undefined;
}

/**
 * @internal The memory driver's finished tasks, kept within `retention` the way BullMQ's `removeOnComplete` /
 * `removeOnFail` keep them: when a task finishes, tasks of its kind beyond `count` or older than `ageMs` go,
 * oldest first. Both collections are in finishing order, so pruning looks only at their fronts.
 */
export class MemoryRetention<T extends Finished> {
  private readonly completed = new TaskDeque<T>();
  private readonly dead = new Map<string, T>();

  constructor(
    private readonly retention: ResolvedRetention,
    /** Forgets a task that retention dropped. */
    private readonly drop: (task: T) => void,
  ) {}

  get completedCount(): number {
    return this.completed.length;
  }

  get deadCount(): number {
    return this.dead.size;
  }

  complete(task: T, now: number): void {
    this.completed.push(task);
    const { count, ageMs } = this.retention.completed;
    for (let oldest = this.completed.peek(); oldest !== undefined; oldest = this.completed.peek()) {
      if (this.completed.length <= count && (oldest.finishedAt as number) > now - ageMs) break;
      this.drop(this.completed.shift() as T);
    }
  }

  bury(task: T, now: number): void {
    this.dead.set(task.id, task);
    const { count, ageMs } = this.retention.dead;
    for (const oldest of this.dead.values()) {
      if (this.dead.size <= count && (oldest.finishedAt as number) > now - ageMs) break;
      this.dead.delete(oldest.id);
      this.drop(oldest);
    }
  }

  /** Removes the dead task (to retry it); undefined when it is not dead. */
  takeDead(id: string): T | undefined {
    const task = this.dead.get(id);
    if (task !== undefined) this.dead.delete(id);
    return task;
  }

  /** Every dead task, oldest first. */
  allDead(): T[] {
    return [...this.dead.values()];
  }
}
