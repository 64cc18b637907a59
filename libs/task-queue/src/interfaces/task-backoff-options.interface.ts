/**
 * @publicApi How long to wait before the next attempt of a failed task. The same formula as BullMQ's built-in
 * strategies: `exponential` waits `delayMs * 2^(failures - 1)`, `fixed` waits `delayMs`; with `jitter` j (0..1)
 * the wait is drawn uniformly from `[wait * (1 - j), wait]`.
 */
export interface TaskBackoffOptions {
  type: 'exponential' | 'fixed';
  delayMs: number;
  /** 0 (no jitter) to 1; default 0.5. */
  jitter?: number;
}
