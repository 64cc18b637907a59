import type { TaskBackoffOptions } from './interfaces/task-backoff-options.interface.js';

/**
 * @internal Delay before the next attempt after `failures` failed runs — the exact formula of BullMQ's built-in
 * `fixed` / `exponential` strategies, so that both drivers wait alike.
 */
export function backoffDelay(backoff: Required<TaskBackoffOptions>, failures: number, random = Math.random): number {
  const max = backoff.type === 'fixed' ? backoff.delayMs : Math.round(2 ** (failures - 1) * backoff.delayMs);
  if (backoff.jitter <= 0) return max;
  return Math.floor(random() * max * backoff.jitter + max * (1 - backoff.jitter));
}
