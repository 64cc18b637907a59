import { Controller, Get, Header, NotFoundException, Param, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import { InjectLoadBalancer, type LoadBalancer } from '@nest-scale/load-balancer';
import { MultiLevelCache } from '@nest-scale/multi-level-cache';
import { TaskQueue } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { DemoConfig } from '../config/demo-config.js';
import { withTimeout } from '../health/with-timeout.js';
import type { DashboardState } from './dashboard-state.js';
import { type TrafficHistorySnapshot, TrafficHistory } from '../history/traffic-history.js';
import { DASHBOARD_ASSETS } from './dashboard-assets.js';
import { DASHBOARD_HTML } from './dashboard.html.js';

@Controller('dashboard')
export class DashboardController {
  constructor(
    private readonly config: DemoConfig,
    private readonly cache: MultiLevelCache,
    @InjectLoadBalancer(CATALOG_UPSTREAM) private readonly balancer: LoadBalancer,
    private readonly tasks: TaskQueue,
    private readonly traffic: TrafficHistory,
  ) {}

  @Get()
  @Header('content-type', 'text/html; charset=utf-8')
  page(): string {
    return DASHBOARD_HTML;
  }

  /** Columns of the last five minutes, one sample a second, for the page's charts. */
  @Get('history')
  @Header('cache-control', 'no-store')
  history(): TrafficHistorySnapshot {
    return this.traffic.snapshot();
  }

  /** uPlot, the charting library of the page, served by the gateway itself (no CDN). */
  @Get('assets/:file')
  asset(@Param('file') file: string, @Res({ passthrough: true }) reply: FastifyReply): string {
    const asset = DASHBOARD_ASSETS.get(file);
    if (!asset) throw new NotFoundException(`no dashboard asset ${file.slice(0, 60)}`);
    reply.header('content-type', asset.contentType).header('cache-control', 'public, max-age=86400');
    return asset.body;
  }

  @Get('state')
  @Header('cache-control', 'no-store')
  async state(): Promise<DashboardState> {
    const cache = this.cache.stats();
    const lookups = cache.hits.l1 + cache.hits.l2 + cache.staleHits + cache.misses;
    const queue = await withTimeout(this.tasks.stats(), 1_000).catch(() => ({
      waiting: NaN,
      active: NaN,
      delayed: NaN,
      failed: NaN,
      completed: NaN,
    }));
    return {
      instance: this.config.instanceId,
      mode: this.config.mode,
      at: new Date().toISOString(),
      nodes: this.balancer.nodes().map((n) => ({
        id: n.id,
        address: `${n.host}:${n.port}`,
        state: n.state,
        healthScore: n.healthScore,
        inFlight: n.inFlight,
        latencyMs: n.latencyMs,
        errorRate: n.errorRate,
        ejections: n.ejections,
      })),
      cache: {
        l1Hits: cache.hits.l1,
        l2Hits: cache.hits.l2,
        misses: cache.misses,
        l1HitRatio: lookups ? cache.hits.l1 / lookups : NaN,
        l2HitRatio: lookups ? cache.hits.l2 / lookups : NaN,
        loaderCalls: cache.loaderCalls,
        errors: cache.l2Errors,
        l2:
          cache.breaker === 'disabled'
            ? 'off (embedded)'
            : cache.breaker === 'closed'
              ? 'connected'
              : `breaker ${cache.breaker}`,
      },
      queue: {
        waiting: queue.waiting,
        active: queue.active,
        delayed: queue.delayed,
        failed: queue.failed,
        completed: queue.completed,
      },
    };
  }
}
