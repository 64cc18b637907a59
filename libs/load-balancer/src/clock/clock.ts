/** Opaque handle returned by {@link Clock.setTimeout}. */
export type TimerHandle = unknown;

/**
 * Time source and timer factory used by every balancer. Milliseconds throughout.
 * Injected so tests and simulations can drive time exactly (see {@link ManualClock}).
 * @publicApi
 */
export interface Clock {
  /** Monotonic time in milliseconds. */
  now(): number;
  /** Schedules `fn` after `ms`; timers never keep the process alive. */
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and unref'd Node timers. @publicApi */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout(fn, ms) {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout(handle) {
    clearTimeout(handle as NodeJS.Timeout);
  },
};
