/** @internal A growable ring buffer: O(1) push and shift (an array's `shift` is O(n)). */
export class TaskDeque<T> {
  private items: (T | undefined)[] = Array.from({ length: 16 });
  private head = 0;
  private size = 0;

  get length(): number {
    return this.size;
  }

  push(item: T): void {
    if (this.size === this.items.length) this.grow();
    this.items[(this.head + this.size) & (this.items.length - 1)] = item;
    this.size++;
  }

  /** The first item, left in place. */
  peek(): T | undefined {
    return this.size === 0 ? undefined : this.items[this.head];
  }

  shift(): T | undefined {
    if (this.size === 0) return undefined;
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) & (this.items.length - 1);
    this.size--;
    return item;
  }

  /** O(n); only for rare removals (a task aborted before it started). */
  remove(item: T): boolean {
    const rest: T[] = [];
    let found = false;
    while (this.size > 0) {
      const next = this.shift() as T;
      if (!found && next === item) found = true;
      else rest.push(next);
    }
    for (const next of rest) this.push(next);
    return found;
  }

  *[Symbol.iterator](): IterableIterator<T> {
    for (let i = 0; i < this.size; i++) yield this.items[(this.head + i) & (this.items.length - 1)] as T;
  }

  clear(): void {
    this.items = Array.from({ length: 16 });
    this.head = 0;
    this.size = 0;
  }

  private grow(): void {
    const next: (T | undefined)[] = Array.from({ length: this.items.length * 2 });
    for (let i = 0; i < this.size; i++) next[i] = this.items[(this.head + i) & (this.items.length - 1)];
    this.items = next;
    this.head = 0;
  }
}
