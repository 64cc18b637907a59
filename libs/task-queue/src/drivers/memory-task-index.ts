const MIN_HOLES = 1024;

/**
 * @internal The memory driver's tasks by sequence number. Numbers are handed out one by one and most tasks leave
 * in about that order, so they sit in an array indexed by `seq - first`: adding, finding and removing one is an
 * array access, where a Map hashed on every call (it was a fifth of the driver's time). A task that outlives many
 * later ones (a dead task kept for days, a long delay) would pin the front of the array and keep every slot after
 * it, so once the removed slots outnumber the live ones, the oldest live tasks move to a Map.
 */
export class MemoryTaskIndex<T extends { readonly seq: number }> {
  private slots: (T | undefined)[] = [];
  private head = 0;
  /** Sequence number of `slots[head]`. */
  private first = 1;
  /** Tasks in `slots[head…]`. */
  private live = 0;
  private readonly stragglers = new Map<number, T>();

  /** `minHoles`: removed slots tolerated at the front before the oldest live tasks move to the Map. */
  constructor(private readonly minHoles = MIN_HOLES) {}

  get size(): number {
    return this.live + this.stragglers.size;
  }

  /** Adds a task whose `seq` is the one after the last added (the driver numbers its tasks 1, 2, … as it adds them). */
  add(task: T): void {
    this.slots.push(task);
    this.live++;
  }

  get(seq: number): T | undefined {
    const at = seq - this.first + this.head;
    if (at >= this.head) return at < this.slots.length ? this.slots[at] : undefined;
    return this.stragglers.get(seq);
  }

  delete(seq: number): void {
    const at = seq - this.first + this.head;
    if (at < this.head) {
      this.stragglers.delete(seq);
      return;
    }
    if (at >= this.slots.length || this.slots[at] === undefined) return;
    this.slots[at] = undefined;
    this.live--;
    if (at === this.head) this.skipRemoved();
    else if (this.slots.length - this.head - this.live > this.minHoles + this.live) this.evictFront();
  }

  private skipRemoved(): void {
    while (this.head < this.slots.length && this.slots[this.head] === undefined) {
      this.head++;
      this.first++;
    }
    // The array is copied only once its dead front is as long as the rest: amortised O(1) per task.
    if (this.head > this.minHoles && this.head * 2 > this.slots.length) {
      this.slots = this.slots.slice(this.head);
      this.head = 0;
    }
  }

  /** Moves the oldest live tasks to the Map until the window is no longer mostly removed slots. */
  private evictFront(): void {
    while (this.slots.length - this.head - this.live > this.live) {
      const task = this.slots[this.head] as T;
      this.stragglers.set(task.seq, task);
      this.slots[this.head] = undefined;
      this.live--;
      this.skipRemoved();
    }
  }
}
