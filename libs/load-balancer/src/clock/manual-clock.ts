import type { Clock, TimerHandle } from './clock.js';

interface Timer {
  at: number;
  seq: number;
  fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to: `advance(ms)` fires due timers in time order.
 * For unit tests and discrete-event simulations. Timers live in a binary heap, so a simulation
 * with hundreds of thousands of pending events stays O(log n) per event.
 * @publicApi
 */
export class ManualClock implements Clock {
  private current: number;
  private seq = 0;
  private readonly heap: Timer[] = [];

  constructor(start = 0) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const timer: Timer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.push(timer);
    return timer;
  }

  clearTimeout(handle: TimerHandle): void {
    if (handle) (handle as Timer).cancelled = true;
  }

  /** Moves time forward by `ms`, firing every timer that falls due on the way, in order. */
  advance(ms: number): void {
    const target = this.current + ms;
    while (this.runNext(target)) {
      // keep firing until nothing is due before target
    }
    this.current = target;
  }

  /** Fires the earliest pending timer if it is due at or before `until`; returns whether one fired. */
  runNext(until = Number.POSITIVE_INFINITY): boolean {
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.at > until) return false;
      this.pop();
      if (top.cancelled) continue;
      this.current = Math.max(this.current, top.at);
      top.fn();
      return true;
    }
  }

  /** Number of timers not yet fired or cancelled-and-collected. */
  get pending(): number {
    return this.heap.length;
  }

  private push(timer: Timer): void {
    const heap = this.heap;
    heap.push(timer);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i], heap[parent])) break;
      [heap[i], heap[parent]] = [heap[parent], heap[i]];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop()!;
    if (heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l], heap[m])) m = l;
      if (r < heap.length && before(heap[r], heap[m])) m = r;
      if (m === i) return;
      [heap[i], heap[m]] = [heap[m], heap[i]];
      i = m;
    }
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
