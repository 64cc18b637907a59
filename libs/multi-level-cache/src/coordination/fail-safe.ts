import type { Logger } from '@nestjs/common';
import { FAIL_SAFE_ANSWERS } from '../multi-level-cache.messages.js';
import type { BackgroundWork } from './background-work.js';

/** The key's last known value, kept past its TTL for fail-safe answers (an L1 entry or an L2 record). @internal */
export interface Fallback {
  readonly value: unknown;
}

/** At most one log line per this period, with the count of answers since the previous one. */
const LOG_EVERY_MS = 10_000;

/**
 * Stale-if-error: a load that fails, or passes the soft timeout, answers the key's last known value instead. Counts
 * those answers and logs them in a bounded way (one line per 10 s at most, with a count). @internal
 */
export class FailSafe {
  hits = 0;
  private unlogged = 0;
  private loggedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly logger: Logger,
    private readonly background: BackgroundWork,
  ) {}

  /**
   * `loading` (the loader, then the write of its result) or `fallback.value` when it rejects, or when it is still
   * running after `softTimeoutMs` (it then goes on in the background and its result fills the cache).
   * `onStale(late)` runs when the fallback answers (`late`: after the soft timeout, the load still running).
   */
  guard(
    key: string,
    loading: Promise<unknown>,
    fallback: Fallback,
    softTimeoutMs: number | undefined,
    onStale: (late: boolean) => void,
  ): Promise<unknown> {
    const stale = (reason: string, late = false) => {
      onStale(late);
      this.note(key, reason);
      return fallback.value;
    };
    const failed = (error: unknown) => stale(`the loader failed: ${String(error)}`);
    if (softTimeoutMs === undefined) return loading.then(undefined, failed);
    return new Promise((resolve) => {
      let late = false;
      const timer = setTimeout(() => {
        late = true;
        this.background.track(loading);
        resolve(stale(`the loader ran past softTimeoutMs (${softTimeoutMs} ms); it goes on in the background`, true));
      }, softTimeoutMs);
      loading.then(
        (value) => {
          clearTimeout(timer);
          if (!late) resolve(value);
        },
        (error: unknown) => {
          clearTimeout(timer);
          if (!late) resolve(failed(error));
        },
      );
    });
  }

  private note(key: string, reason: string): void {
    this.hits++;
    this.unlogged++;
    const now = performance.now();
    if (now - this.loggedAt < LOG_EVERY_MS) return;
    this.loggedAt = now;
    this.logger.warn(FAIL_SAFE_ANSWERS(key, reason, this.unlogged));
    this.unlogged = 0;
  }
}
