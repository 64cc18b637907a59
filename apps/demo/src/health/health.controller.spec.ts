import { Test } from '@nestjs/testing';
import { TerminusModule } from '@nestjs/terminus';
import { getLoadBalancerToken } from '@nest-scale/load-balancer';
import { TaskQueue } from '@nest-scale/task-queue';
import { CATALOG_UPSTREAM } from '../catalog/catalog.constants.js';
import { HealthController } from './health.controller.js';
import { RedisHealthIndicator } from './redis-health.indicator.js';
import { DemoConfig } from '../config/demo-config.js';

/** Readiness fails only while shutting down: a load balancer stops sending traffic while the gateway drains. */
describe('HealthController readiness', () => {
  it('answers ready with its dependencies, and 503 once shutdown has begun, while liveness stays up', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [TerminusModule.forRoot({ logger: false })],
      controllers: [HealthController],
      providers: [
        RedisHealthIndicator,
        { provide: DemoConfig, useValue: DemoConfig.fromEnv({}) },
        {
          provide: getLoadBalancerToken(CATALOG_UPSTREAM),
          useValue: { nodes: () => [{ id: 'u1', state: 'healthy' }] },
        },
        {
          provide: TaskQueue,
          useValue: { stats: async () => ({ driver: 'memory', waiting: 0, active: 0, delayed: 0, failed: 0 }) },
        },
      ],
    }).compile();
    const health = moduleRef.get(HealthController);
    const ready = await health.ready();
    expect(ready).toMatchObject({ status: 'ok', details: { upstreams: { status: 'up' }, queue: { status: 'up' } } });

    health.beforeApplicationShutdown();
    expect(() => health.ready()).toThrow(expect.objectContaining({ status: 503 }));
    expect(health.live()).toEqual({ status: 'ok' });
    await moduleRef.close();
  });
});
