import { Controller, Get } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { HealthCheck, HealthCheckService, TerminusModule } from '@nestjs/terminus';
import { LoadBalancerModule } from '../load-balancer.module.js';
import { LoadBalancer } from '../load-balancer.service.js';
import { getLoadBalancerToken } from '../load-balancer.tokens.js';
import { LoadBalancerHealthIndicator } from './load-balancer.health-indicator.js';

@Controller('health')
class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly upstreams: LoadBalancerHealthIndicator,
  ) {}

  @Get()
  @HealthCheck()
  check() {
    return this.health.check([
      () => this.upstreams.isHealthy('upstreams'),
      () => this.upstreams.isHealthy('payments', { balancer: 'payments' }),
    ]);
  }
}

const node = (id: string) => ({ id, host: '127.0.0.1', port: 1 });

async function boot() {
  const moduleRef = await Test.createTestingModule({
    imports: [
      TerminusModule.forRoot({ logger: false }),
      LoadBalancerModule.forRoot({
        nodes: [node('a'), node('b')],
        outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 },
      }),
      LoadBalancerModule.register({ name: 'payments', nodes: [node('p1')] }),
    ],
    controllers: [HealthController],
    providers: [LoadBalancerHealthIndicator],
  }).compile();
  const app = moduleRef.createNestApplication({ logger: false });
  await app.init();
  return { app, controller: app.get(HealthController), balancer: app.get<LoadBalancer>(getLoadBalancerToken()) };
}

describe('LoadBalancerHealthIndicator with @nestjs/terminus', () => {
  it('is up with every node healthy, degraded with one ejected, down with none left, per balancer', async () => {
    const { app, controller, balancer } = await boot();
    try {
      const healthy = await controller.check();
      expect(healthy.status).toBe('ok');
      expect(healthy.details.upstreams).toEqual({ status: 'up', available: 2, total: 2, ejected: [], draining: [] });
      expect(healthy.details.payments).toMatchObject({ status: 'up', available: 1, total: 1 });

      balancer.report('a', { latencyMs: 5, error: true });
      const degraded = await controller.check();
      expect(degraded.status).toBe('degraded');
      expect(degraded.details.upstreams).toMatchObject({ status: 'degraded', available: 1, ejected: ['a'] });

      balancer.report('b', { latencyMs: 5, error: true });
      await expect(controller.check()).rejects.toMatchObject({
        response: { status: 'error', error: { upstreams: { status: 'down', available: 0, ejected: ['a', 'b'] } } },
      });
    } finally {
      await app.close();
    }
  });
});
