import { Logger } from '@nestjs/common';
import { ManualClock } from '../clock/manual-clock.js';
import { PeriodicTask } from './periodic-task.js';

const settle = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('PeriodicTask (issue 16 redesign)', () => {
  it('runs rounds on schedule, never two at once, logs a failed round and keeps going, and stops', async () => {
    const clock = new ManualClock();
    const logger = new Logger('test');
    const errors: string[] = [];
    vi.spyOn(logger, 'error').mockImplementation((message: unknown) => void errors.push(String(message)));
    let rounds = 0;
    let release!: () => void;
    const task = new PeriodicTask(clock, logger, 'b', 'discovery', 100, async () => {
      rounds++;
      if (rounds === 2) throw new Error('provider down');
      if (rounds === 3) await new Promise<void>((r) => (release = r));
    });
    task.start(0);
    clock.advance(0);
    await settle();
    clock.advance(100);
    await settle();
    expect(rounds).toBe(2);
    expect(errors).toEqual([
      'A discovery round of load balancer "b" failed: Error: provider down. The next round runs on schedule.',
    ]);
    clock.advance(100);
    await settle();
    clock.advance(500); // round 3 still running: no new round starts
    expect(rounds).toBe(3);
    release();
    await settle();
    clock.advance(100);
    await settle();
    expect(rounds).toBe(4);
    task.stop();
    clock.advance(1_000);
    await settle();
    expect(rounds).toBe(4);
  });
});
