import { Controller, Get } from '@nestjs/common';
import { HealthCheck, HealthCheckService, HealthIndicatorService } from '@nestjs/terminus';
import { InjectLoadBalancer, type LoadBalancer } from '@nest-scale/load-balancer';
import { TaskQueue } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { RedisHealthIndicator } from './redis-health.indicator.js';

@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly indicators: HealthIndicatorService,
    private readonly redis: RedisHealthIndicator,
    @InjectLoadBalancer(CATALOG_UPSTREAM) private readonly balancer: LoadBalancer,
    private readonly tasks: TaskQueue,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([() => this.redis.check(), () => this.upstreams(), () => this.queue()]);
  }

  /** Down when no node can take traffic; degraded while some are ejected. */
  private upstreams() {
    const session = this.indicators.check('upstreams');
    const nodes = this.balancer.nodes();
    const available = nodes.filter((n) => n.state === 'healthy' || n.state === 'probing').length;
    const data = {
      available,
      total: nodes.length,
      ejected: nodes.filter((n) => n.state === 'ejected').map((n) => n.id),
    };
    if (available === 0) return session.down(data);
    return available < nodes.length ? session.degraded(data) : session.up(data);
  }

  private queue() {
    return this.indicators
      .check('queue')
      .attempt(async () => {
        const { driver, waiting, active, delayed, failed } = await this.tasks.stats();
        return { driver, waiting, active, delayed, dead: failed };
      })
      .withTimeout(1_000);
  }
}
