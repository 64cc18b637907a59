/** A load or refresh in flight for one key. @internal */
export interface Flight {
  readonly promise: Promise<unknown>;
  readonly tags: readonly string[] | undefined;
  /** Set by an invalidation of the key (or one of its tags): the flight's result may predate it. */
  detached: boolean;
  /** Where its answer came from, for `wrapWithOutcome` (set by the code the flight runs). */
  outcome: 'hit' | 'miss' | 'stale';
}

/** Past this many remembered invalidations, everything in flight is fenced instead of remembering each key. */
const FENCE_ENTRIES = 10_000;

/**
 * Who may join, and who may write, while loads, refreshes and invalidations of a key interleave on one instance.
 *
 * A key with nothing in flight has no state here (idle). Per key:
 *
 *     idle ── miss ──────────────▶ loading ──── loader settled ───▶ idle
 *     idle ── stale value served ─▶ refreshing ─ refresh settled ──▶ idle
 *     loading | refreshing ── invalidation ──▶ idle (the flight is detached)
 *
 * - A miss while the key is loading joins that load; a miss while it is refreshing joins the refresh.
 * - An invalidation is a local `set`/`del`, an `invalidateTags` of a tag the flight carries, the same arriving from
 *   another instance on the bus, or a flush (the bus was down). It detaches the flight: callers that already joined
 *   keep its result, a caller that comes after the invalidation starts a new load, and the detached flight writes
 *   nothing, neither to L1 nor to Redis.
 * - Fencing covers reads as well as flights: a read or load that began (`begin()`) before an invalidation of its key or
 *   of one of its tags must not put what it got into L1 (`unchangedSince`).
 *
 * Writes that may land (the service enforces the Redis half with the tier's conditional writes):
 * - `set`: always (L1, then Redis in one MULTI with its announcement);
 * - a load or refresh that is still attached: L1 only when `unchangedSince` its start; Redis only when the key still
 *   holds what the load saw when it read it (SET NX when it saw nothing, compare-and-set against the record it saw
 *   otherwise), so a value written meanwhile, here or elsewhere, is never replaced by an older one.
 * @internal
 */
export class KeyCoordinator {
  private readonly loads = new Map<string, Flight>();
  private readonly refreshes = new Map<string, Flight>();
  private seq = 0;
  private floor = 0;
  private readonly touchedKeys = new Map<string, number>();
  private readonly touchedTags = new Map<string, number>();

  /** A mark to pass to `unchangedSince` later. */
  begin(): number {
    return this.seq;
  }

  /** Whether no invalidation of the key, or of one of the tags, happened since `start`. */
  unchangedSince(start: number, key: string, tags: readonly string[] | undefined): boolean {
    if (start < this.floor) return false;
    if ((this.touchedKeys.get(key) ?? 0) > start) return false;
    if (tags) for (const tag of tags) if ((this.touchedTags.get(tag) ?? 0) > start) return false;
    return true;
  }

  /** The load in flight for the key, joined, or a new one started with `run`. */
  load<T>(key: string, tags: readonly string[] | undefined, run: (flight: Flight) => Promise<T>): Promise<T> {
    const current = this.loads.get(key);
    if (current) return current.promise as Promise<T>;
    return this.start(this.loads, key, tags, run);
  }

  /** The load in flight for the key, if any (right after `load`, the flight behind the promise it returned). */
  loading(key: string): Flight | undefined {
    return this.loads.get(key);
  }

  /** The refresh in flight for the key, if any (a miss joins it rather than loading a second time). */
  refreshing(key: string): Promise<unknown> | undefined {
    return this.refreshes.get(key)?.promise;
  }

  /** Starts a refresh unless one is in flight; returns it, or undefined when one was already running. */
  refresh<T>(
    key: string,
    tags: readonly string[] | undefined,
    run: (flight: Flight) => Promise<T>,
  ): Promise<T> | undefined {
    if (this.refreshes.has(key)) return undefined;
    return this.start(this.refreshes, key, tags, run);
  }

  invalidateKeys(keys: readonly string[]): void {
    const seq = ++this.seq;
    for (const key of keys) {
      this.touchedKeys.set(key, seq);
      this.detach(this.loads, key);
      this.detach(this.refreshes, key);
    }
    this.bound();
  }

  invalidateTags(tags: readonly string[]): void {
    const seq = ++this.seq;
    for (const tag of tags) this.touchedTags.set(tag, seq);
    this.bound();
    for (const flights of [this.loads, this.refreshes]) {
      for (const [key, flight] of Array.from(flights)) {
        if (flight.tags?.some((tag) => tags.includes(tag))) this.detach(flights, key);
      }
    }
  }

  /** Everything may have changed (the bus was down): fence and detach all. */
  invalidateAll(): void {
    this.floor = ++this.seq;
    this.touchedKeys.clear();
    this.touchedTags.clear();
    for (const flights of [this.loads, this.refreshes]) {
      for (const flight of flights.values()) flight.detached = true;
      flights.clear();
    }
  }

  private start<T>(
    flights: Map<string, Flight>,
    key: string,
    tags: readonly string[] | undefined,
    run: (flight: Flight) => Promise<T>,
  ): Promise<T> {
    const flight: Flight = { promise: undefined as unknown as Promise<T>, tags, detached: false, outcome: 'miss' };
    // `run` starts on the next microtask, so the flight is complete (joinable, detachable) before any of its code,
    // a loader included, can reach this coordinator again.
    const promise = Promise.resolve(flight).then(run);
    (flight as { promise: Promise<unknown> }).promise = promise;
    flights.set(key, flight);
    const clear = () => {
      if (flights.get(key) === flight) flights.delete(key);
    };
    promise.then(clear, clear);
    return promise;
  }

  private detach(flights: Map<string, Flight>, key: string): void {
    const flight = flights.get(key);
    if (!flight) return;
    flight.detached = true;
    flights.delete(key);
  }

  private bound(): void {
    if (this.touchedKeys.size + this.touchedTags.size <= FENCE_ENTRIES) return;
    this.floor = this.seq;
    this.touchedKeys.clear();
    this.touchedTags.clear();
  }
}
