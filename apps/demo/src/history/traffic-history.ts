import { type BeforeApplicationShutdown, Injectable, type OnApplicationBootstrap } from '@nestjs/common';
import { MultiLevelCache } from '@nest-scale/multi-level-cache';
import { TaskQueue } from '@nest-scale/task-queue';
import { withTimeout } from '../health/with-timeout.js';

/** One sample a second, for the last five minutes. */
const SAMPLE_MS = 1_000;
const SAMPLES = 300;
/** Upstream latencies kept per node and second for its p99; past this, later ones in that second are dropped. */
const LATENCIES_PER_SECOND = 4_096;

/** What the dashboard's charts plot: columns of equal length, oldest first (uPlot's data layout). */
export interface TrafficHistorySnapshot {
  /** Unix seconds. */
  t: number[];
  /** Share of cache lookups in that second answered without the loader (null: no lookups). */
  hitRatio: (number | null)[];
  /** HTTP requests answered in that second. */
  requestsPerSecond: number[];
  /** Tasks waiting in the queue (null: the queue could not be read). */
  queueWaiting: (number | null)[];
  /** Per upstream node: p99 latency in ms of the upstream calls it answered in that second (null: none). */
  nodeP99Ms: Record<string, (number | null)[]>;
}

/**
 * The gateway's recent traffic for the dashboard's charts, sampled in-process every second (each instance shows its
 * own). Recording a request or an upstream latency is O(1) and allocates nothing but the sample itself.
 */
@Injectable()
export class TrafficHistory implements OnApplicationBootstrap, BeforeApplicationShutdown {
  private readonly history: TrafficHistorySnapshot = {
    t: [],
    hitRatio: [],
    requestsPerSecond: [],
    queueWaiting: [],
    nodeP99Ms: {},
  };
  private requests = 0;
  private readonly latencies = new Map<string, number[]>();
  private lastLookups = 0;
  private lastLoads = 0;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly cache: MultiLevelCache,
    private readonly tasks: TaskQueue,
  ) {}

  countRequest(): void {
    this.requests++;
  }

  recordUpstream(nodeId: string, latencyMs: number): void {
    let samples = this.latencies.get(nodeId);
    if (samples === undefined) this.latencies.set(nodeId, (samples = []));
    if (samples.length < LATENCIES_PER_SECOND) samples.push(latencyMs);
  }

  snapshot(): TrafficHistorySnapshot {
    return this.history;
  }

  onApplicationBootstrap(): void {
    const { hits, staleHits, misses, loaderCalls } = this.cache.stats();
    this.lastLookups = hits.l1 + hits.l2 + staleHits + misses;
    this.lastLoads = loaderCalls;
    this.timer = setInterval(() => void this.sample(), SAMPLE_MS);
    this.timer.unref();
  }

  beforeApplicationShutdown(): void {
    clearInterval(this.timer);
  }

  private async sample(): Promise<void> {
    const { hits, staleHits, misses, loaderCalls } = this.cache.stats();
    const lookups = hits.l1 + hits.l2 + staleHits + misses;
    const newLookups = lookups - this.lastLookups;
    const newLoads = loaderCalls - this.lastLoads;
    this.lastLookups = lookups;
    this.lastLoads = loaderCalls;
    const requests = this.requests;
    this.requests = 0;
    const p99 = new Map<string, number>();
    for (const [node, samples] of this.latencies) {
      if (samples.length === 0) continue;
      samples.sort((a, b) => a - b);
      p99.set(node, samples[Math.min(samples.length - 1, Math.floor(samples.length * 0.99))]);
      samples.length = 0;
    }
    const queue = await withTimeout(this.tasks.stats(), SAMPLE_MS / 2).catch(() => undefined);

    const h = this.history;
    h.t.push(Math.round(Date.now() / 1000));
    h.hitRatio.push(newLookups > 0 ? Math.max(0, 1 - newLoads / newLookups) : null);
    h.requestsPerSecond.push(requests);
    h.queueWaiting.push(queue?.waiting ?? null);
    for (const node of p99.keys()) h.nodeP99Ms[node] ??= Array(h.t.length - 1).fill(null);
    for (const [node, series] of Object.entries(h.nodeP99Ms)) series.push(p99.get(node) ?? null);
    if (h.t.length > SAMPLES) {
      for (const series of [h.t, h.hitRatio, h.requestsPerSecond, h.queueWaiting, ...Object.values(h.nodeP99Ms)]) {
        series.shift();
      }
      // A node gone for the whole window leaves the charts.
      for (const [node, series] of Object.entries(h.nodeP99Ms))
        if (series.every((v) => v === null)) delete h.nodeP99Ms[node];
    }
  }
}
