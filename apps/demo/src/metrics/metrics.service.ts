import { Injectable } from '@nestjs/common';
import { InjectLoadBalancer, type LoadBalancer, type NodeSnapshot } from '@nest-scale/load-balancer';
import { MultiLevelCache } from '@nest-scale/multi-level-cache';
import { TaskQueue, type TaskQueueStats } from '@nest-scale/task-queue';
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { withTimeout } from '../health/with-timeout.js';

const NODE_STATES = ['healthy', 'ejected', 'probing', 'draining'] as const;
const BREAKER_STATES = ['closed', 'open', 'half-open', 'isolated', 'disabled'] as const;
const QUEUE_STATES = ['waiting', 'active', 'delayed', 'failed', 'completed'] as const;
const QUEUE_STATS_TIMEOUT_MS = 1_000;
/** The `cache_name` label of the gateway's one cache. */
const CACHE_NAME = 'catalog';

/**
 * Prometheus metrics read from the modules' own snapshots at scrape time, so nothing is counted twice and the hot
 * paths carry no metrics code. One registry per application instance (not prom-client's global one).
 */
@Injectable()
export class MetricsService {
  readonly registry = new Registry();

  constructor(
    private readonly cache: MultiLevelCache,
    @InjectLoadBalancer(CATALOG_UPSTREAM) private readonly balancer: LoadBalancer,
    private readonly tasks: TaskQueue,
  ) {
    collectDefaultMetrics({ register: this.registry });
    this.registerCacheMetrics();
    this.registerUpstreamMetrics();
    this.registerQueueMetrics();
  }

  private registerCacheMetrics(): void {
    const { cache } = this;
    this.counter(
      'nest_scale_cache_hits_total',
      'Cache hits by tier (l1: in-process, l2: Redis, stale: grace)',
      ['tier'],
      () => {
        const s = cache.stats();
        return [
          [{ tier: 'l1' }, s.hits.l1],
          [{ tier: 'l2' }, s.hits.l2],
          [{ tier: 'stale' }, s.staleHits],
        ];
      },
    );
    this.counter('nest_scale_cache_misses_total', 'Cache misses (no tier had the key)', [], () => [
      [{}, cache.stats().misses],
    ]);
    this.counter('nest_scale_cache_loader_calls_total', 'Loader calls after misses', [], () => [
      [{}, cache.stats().loaderCalls],
    ]);
    this.counter(
      'nest_scale_cache_l2_errors_total',
      'Redis operations that failed, timed out or were refused',
      [],
      () => [[{}, cache.stats().l2Errors]],
    );
    this.gauge('nest_scale_cache_l1_entries', 'Entries held in the in-process L1', [], () => [
      [{}, cache.stats().l1Entries],
    ]);
    this.gauge('nest_scale_cache_l2_available', 'Whether L2 (Redis) is usable: 1, or not: 0', ['cache_name'], () => {
      const { breaker } = cache.stats();
      return breaker === 'disabled' ? [] : [[{ cache_name: CACHE_NAME }, breaker === 'closed' ? 1 : 0]];
    });
    this.gauge(
      'nest_scale_cache_bus_live',
      'Whether the invalidation bus is live: 1, or not: 0',
      ['cache_name'],
      () => {
        const { bus } = cache.stats();
        return bus.enabled ? [[{ cache_name: CACHE_NAME }, bus.connected ? 1 : 0]] : [];
      },
    );
    this.gauge(
      'nest_scale_cache_l2_breaker',
      'Redis circuit breaker state (1 for the current state)',
      ['state'],
      () => {
        const current = cache.stats().breaker;
        return BREAKER_STATES.map((state) => [{ state }, state === current ? 1 : 0]);
      },
    );
  }

  private registerUpstreamMetrics(): void {
    const perNode = (name: string, help: string, read: (n: NodeSnapshot) => number) =>
      this.gauge(name, help, ['node'], () => this.balancer.nodes().map((n) => [{ node: n.id }, read(n)]));
    perNode('nest_scale_upstream_in_flight', 'Requests in flight per upstream node', (n) => n.inFlight);
    perNode('nest_scale_upstream_latency_ms', 'Decayed peak-EWMA latency estimate per node (ms)', (n) => n.latencyMs);
    perNode('nest_scale_upstream_error_rate', 'Decayed error rate per node', (n) => n.errorRate);
    perNode('nest_scale_upstream_health_score', 'Health score per node in [0, 1]', (n) => n.healthScore);
    perNode('nest_scale_upstream_ejections', 'Times each node was ejected', (n) => n.ejections);
    // Named as in monitoring/README.md, so the shipped alerts (NestScaleUpstreamEjected, …Unavailable) work on it.
    this.gauge(
      'nest_scale_lb_node_state',
      'Upstream node state (1 for the current state)',
      ['balancer', 'node', 'state'],
      () =>
        this.balancer
          .nodes()
          .flatMap((n) =>
            NODE_STATES.map((state): Sample => [
              { balancer: CATALOG_UPSTREAM, node: n.id, state },
              n.state === state ? 1 : 0,
            ]),
          ),
    );
  }

  /**
   * The queue's figures come from Redis in the distributed mode. While it is unreachable the scrape still answers,
   * without them, and `nest_scale_queue_stats_up` says so (an alert can key on it).
   */
  private registerQueueMetrics(): void {
    // Three gauges read the same counts: one read per scrape (the collectors of a scrape run together).
    let pending: Promise<TaskQueueStats | undefined> | undefined;
    const stats = () =>
      (pending ??= withTimeout(this.tasks.stats(), QUEUE_STATS_TIMEOUT_MS)
        .catch(() => undefined)
        .finally(() => setImmediate(() => (pending = undefined))));
    this.gauge(
      'nest_scale_queue_stats_up',
      'Whether the last scrape could read the queue (1) or not (0)',
      [],
      async () => [[{}, (await stats()) === undefined ? 0 : 1]],
    );
    this.gauge('nest_scale_queue_tasks', 'Tasks in the queue by state', ['state'], async () => {
      const s = await stats();
      return s === undefined ? [] : QUEUE_STATES.map((state): Sample => [{ state }, s[state]]);
    });
    this.gauge(
      'nest_scale_task_duration_ms',
      'Handler run durations on this instance (last 1,024 runs)',
      ['quantile'],
      async () => {
        const s = await stats();
        if (s === undefined) return [];
        const { durations } = s;
        return [
          [{ quantile: '0.5' }, durations.p50Ms],
          [{ quantile: '0.95' }, durations.p95Ms],
          [{ quantile: '0.99' }, durations.p99Ms],
        ];
      },
    );
  }

  /** A counter whose values are read from a module's own monotonic counters at scrape time. */
  private counter(name: string, help: string, labelNames: string[], read: () => Sample[]): void {
    this.registry.registerMetric(
      new Counter({
        name,
        help,
        labelNames,
        registers: [],
        collect() {
          this.reset();
          for (const [labels, value] of read()) this.inc(labels, value);
        },
      }),
    );
  }

  private gauge(name: string, help: string, labelNames: string[], read: () => Sample[] | Promise<Sample[]>): void {
    this.registry.registerMetric(
      new Gauge({
        name,
        help,
        labelNames,
        registers: [],
        async collect() {
          this.reset();
          for (const [labels, value] of await read()) this.set(labels, value);
        },
      }),
    );
  }
}

type Sample = [Record<string, string>, number];
