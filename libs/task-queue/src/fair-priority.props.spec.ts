import fc from 'fast-check';
import { propertyParameters } from '../../../test/harness/index.js';
import { fairPriority } from './fair-priority.js';
import { TaskHeap } from './task-heap.js';
import { RateWindow } from './rate-limit.js';

interface Waiting {
  group: string;
  priority: number;
  seq: number;
}

/** Enqueue n tasks of a group, or dispatch up to n tasks (the order a worker takes them). */
const op = fc.oneof(
  fc.record({ kind: fc.constant('enqueue' as const), group: fc.constantFrom('a', 'b', 'c', 'd', 'e'), n: fc.integer({ min: 1, max: 30 }) }),
  fc.record({ kind: fc.constant('dispatch' as const), n: fc.integer({ min: 1, max: 20 }) }),
);

describe('fair sharing between groups (issue 15 item 5), as the drivers compute it', () => {
  /**
   * Round-robin as deficit round robin gives it: a group that starts waiting again waits for the rest of the
   * current round and at most one more, so no other group gets more than two tasks ahead of it, whatever the
   * backlogs (FIFO would let a backlog of 10,000 go first).
   */
  it('no other group gets more than two tasks ahead of a group that starts waiting', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
        const heap = new TaskHeap<Waiting>((x, y) => x.priority < y.priority || (x.priority === y.priority && x.seq < y.seq));
        const last = new Map<string, number>();
        let highest = 0;
        let seq = 0;
        let mostAhead = 0;
        /** For each task enqueued into a group with nothing waiting: tasks of each other group dispatched before it. */
        const watched = new Map<number, Map<string, number>>();
        for (const o of ops) {
          if (o.kind === 'enqueue') {
            for (let i = 0; i < o.n; i++) {
              const waiting = heap.values().some((w) => w.group === o.group);
              const priority = fairPriority(last.get(o.group), heap.peek()?.priority, highest);
              last.set(o.group, priority);
              highest = Math.max(highest, priority);
              const task = { group: o.group, priority, seq: ++seq };
              if (!waiting) watched.set(task.seq, new Map());
              heap.push(task);
            }
          } else {
            for (let i = 0; i < o.n && heap.length > 0; i++) {
              const next = heap.pop() as Waiting;
              watched.delete(next.seq);
              for (const ahead of watched.values()) {
                const n = (ahead.get(next.group) ?? 0) + 1;
                mostAhead = Math.max(mostAhead, n);
                ahead.set(next.group, n);
              }
            }
          }
        }
        expect(mostAhead).toBeLessThanOrEqual(2);
      }),
      propertyParameters(300),
    );
  });

  it('a rate window lets at most max runs start in each window, and says how long until the next', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 5 }),
        fc.integer({ min: 10, max: 1_000 }),
        fc.array(fc.integer({ min: 0, max: 300 }), { maxLength: 60 }),
        (max, perMs, gaps) => {
          const window = new RateWindow({ max, perMs });
          const started = new Map<number, number>();
          const wrong: string[] = [];
          let now = 1_000_000;
          for (const gap of gaps) {
            now += gap;
            const wait = window.waitMs(now);
            const index = Math.floor(now / perMs);
            if (wait === 0) started.set(index, (started.get(index) ?? 0) + 1);
            // Refused only when the window is full, and told to come back when the next one opens.
            else if (now + wait !== (index + 1) * perMs || started.get(index) !== max) wrong.push(`refused at ${now}`);
          }
          for (const [index, n] of started) if (n > max) wrong.push(`${n} starts in window ${index}`);
          expect(wrong).toEqual([]);
        },
      ),
      propertyParameters(300),
    );
  });
});
