import { type BeforeApplicationShutdown, Controller, Get, ServiceUnavailableException } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InjectLoadBalancer, type LoadBalancer } from '@nest-scale/load-balancer';
import { TaskQueue } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { RedisHealthIndicator } from './redis-health.indicator.js';
import { withTimeout } from './with-timeout.js';

/**
 * Liveness (`/health/live`): the process answers; a failing one should be restarted. Readiness (`/health/ready`,
 * also `/health`): the gateway can serve requests and should get traffic. Redis, the upstreams and the queue are
 * reported in the body as `up` or `degraded`, never failing readiness: without them the gateway still serves from its
 * cache and answers the rest with 503s that say what is missing, and pulling every gateway out of rotation during a
 * dependency outage would turn a partial outage into a full one. Readiness fails (503) only while shutting down.
 */
@Controller('health')
export class HealthController implements BeforeApplicationShutdown {
  private shuttingDown = false;

  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisHealthIndicator,
    @InjectLoadBalancer(CATALOG_UPSTREAM) private readonly balancer: LoadBalancer,
    private readonly tasks: TaskQueue,
  ) {}

  @Get('live')
  live() {
    return { status: 'ok' };
  }

  @Get(['', 'ready'])
  @HealthCheck()
  ready() {
    if (this.shuttingDown) throw new ServiceUnavailableException('shutting down');
    return this.health.check([() => this.redis.check(), () => this.upstreams(), () => this.queue()]);
  }

  /** Load balancers stop sending traffic while the queue drains and the server closes. */
  beforeApplicationShutdown(): void {
    this.shuttingDown = true;
  }

  /** Degraded while some nodes are ejected or none is available: cached products are still served. */
  private upstreams() {
    const session = this.indicators.check('upstreams');
    const nodes = this.balancer.nodes();
    const available = nodes.filter((n) => n.state === 'healthy' || n.state === 'probing').length;
    const data = {
      available,
      total: nodes.length,
      ejected: nodes.filter((n) => n.state === 'ejected').map((n) => n.id),
    };
    return available < nodes.length ? session.degraded(data) : session.up(data);
  }

  private async queue() {
    const session = this.indicators.check('queue');
    try {
      const { driver, waiting, active, delayed, failed } = await withTimeout(this.tasks.stats(), 1_000);
      return session.up({ driver, waiting, active, delayed, dead: failed });
    } catch (error) {
      return session.degraded({ message: `queue unreachable: ${(error as Error).message}; orders answer 503` });
    }
  }
}
