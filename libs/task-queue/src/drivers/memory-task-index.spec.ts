import fc from 'fast-check';
import { propertyParameters } from '../../../../test/harness/index.js';
import { MemoryTaskIndex } from './memory-task-index.js';

describe('MemoryTaskIndex', () => {
  it('answers like a Map for any order of removals, including tasks that outlive many later ones', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 8 }),
        fc.array(fc.tuple(fc.nat(99), fc.nat(5_000)), { minLength: 100, maxLength: 3_000, size: 'max' }),
        (minHoles, steps) => {
          // A small minHoles moves tasks to the Map and compacts the array often.
          const index = new MemoryTaskIndex<{ seq: number }>(minHoles);
          const model = new Map<number, { seq: number }>();
          let seq = 0;
          for (const [action, pick] of steps) {
            if (action < 40 || seq === 0) {
              const task = { seq: ++seq };
              index.add(task);
              model.set(task.seq, task);
              continue;
            }
            // The oldest but every fifth task (those stay, as dead tasks do, pinning the front), a recent one (out
            // of order), or any, even an unknown one.
            const victim =
              action < 70
                ? ([...model.keys()].find((s) => s % 5 !== 0) ?? 0)
                : action < 90
                  ? Math.max(1, seq - (pick % 30))
                  : pick % (seq + 2);
            index.delete(victim);
            model.delete(victim);
            expect(index.size).toBe(model.size);
          }
          for (let s = -1; s <= seq + 1; s++) expect(index.get(s)).toBe(model.get(s));
          expect(index.get(Number.NaN)).toBeUndefined();
          expect(index.get(1.5)).toBeUndefined();
        },
      ),
      propertyParameters(100),
    );
  });

  it('stays bounded when one old task is kept while many later ones come and go', () => {
    const index = new MemoryTaskIndex<{ seq: number }>();
    const kept = { seq: 1 };
    index.add(kept);
    for (let seq = 2; seq <= 200_000; seq++) {
      index.add({ seq });
      index.delete(seq - 1 === 1 ? 0 : seq - 1);
    }
    expect(index.get(1)).toBe(kept);
    expect(index.get(200_000)).toEqual({ seq: 200_000 });
    expect(index.size).toBe(2);
    // The window holds the live tasks and at most a bounded run of removed slots, not every slot since task 1.
    expect((index as unknown as { slots: unknown[] }).slots.length).toBeLessThan(5_000);
  });
});
