import { type DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_FILTER, APP_PIPE } from '@nestjs/core';
import { TerminusModule } from '@nestjs/terminus';
import { ThrottlerModule } from '@nestjs/throttler';
import { LoadBalancerModule } from '@nest-scale/load-balancer';
import { MultiLevelCacheModule } from '@nest-scale/multi-level-cache';
import { TaskQueueModule } from '@nest-scale/task-queue';
import { AdminController } from './admin/admin.controller.js';
import { AdminTokenGuard } from './admin/admin-token.guard.js';
import { CartController } from './cart/cart.controller.js';
import { CartRepository } from './cart/cart.repository.js';
import { CartService } from './cart/cart.service.js';
import { InMemoryCartRepository } from './cart/in-memory-cart.repository.js';
import { RedisCartRepository } from './cart/redis-cart.repository.js';
import { CATALOG_UPSTREAM } from './catalog/catalog.constants.js';
import { CatalogController } from './catalog/catalog.controller.js';
import { CatalogService } from './catalog/catalog.service.js';
import { DemoConfig } from './config/demo-config.js';
import { GatewayInfraModule } from './config/gateway-infra.module.js';
import { GatewayRedis } from './config/gateway-redis.js';
import { DashboardController } from './dashboard/dashboard.controller.js';
import { AppErrorsFilter } from './errors/app-errors.filter.js';
import { TrafficHistory } from './history/traffic-history.js';
import { HealthController } from './health/health.controller.js';
import { RedisHealthIndicator } from './health/redis-health.indicator.js';
import { MetricsController } from './metrics/metrics.controller.js';
import { InMemoryOrderRepository } from './orders/in-memory-order.repository.js';
import { OrderRepository } from './orders/order.repository.js';
import { OrderTasks } from './orders/order-tasks.service.js';
import { OrdersController } from './orders/orders.controller.js';
import { OrdersService } from './orders/orders.service.js';
import { RedisOrderRepository } from './orders/redis-order.repository.js';
import { RedisThrottlerStorage } from './rate-limit/redis-throttler.storage.js';
import { DemoTelemetry } from './telemetry/demo-telemetry.js';

/**
 * The catalog gateway: everything it needs comes in through DI, configured from one `DemoConfig`; `telemetry` is the
 * OpenTelemetry SDK registered before the app was created (its `/metrics` and its shutdown).
 */
@Module({})
export class AppModule {
  static forRoot(config: DemoConfig, telemetry: DemoTelemetry): DynamicModule {
    const redis = config.redisCluster
      ? { cluster: config.redisCluster }
      : config.redisUrl
        ? { url: config.redisUrl }
        : undefined;
    return {
      module: AppModule,
      imports: [
        GatewayInfraModule.forRoot(config),
        ThrottlerModule.forRootAsync({
          inject: [GatewayRedis],
          useFactory: (redis: GatewayRedis) => ({
            throttlers: [{ name: 'default', ttl: 60_000, limit: config.orderRateLimit }],
            errorMessage: `more than ${config.orderRateLimit} orders a minute from this client; retry after Retry-After seconds`,
            ...(redis.client ? { storage: new RedisThrottlerStorage(redis.client, config.keyPrefix) } : {}),
          }),
        }),
        MultiLevelCacheModule.forRoot({
          namespace: `${config.keyPrefix}:catalog`,
          ttl: config.cacheTtlMs,
          nullTtl: 5_000,
          jitter: 0.1,
          // Fail-safe: when the upstreams cannot answer (or take over 800 ms), a product seen in the last 10 minutes is
          // served as it was last known, marked `X-Cache: STALE`, rather than a 503.
          failSafeMaxMs: 10 * 60_000,
          softTimeoutMs: 800,
          l1: { maxEntries: 10_000 },
          l2: redis ?? false,
          isGlobal: true,
        }),
        LoadBalancerModule.register({
          name: CATALOG_UPSTREAM,
          nodes: config.upstreams,
          strategy: 'p2c-ewma',
          retries: 2,
          // Each try gets at most 1 s and the whole call, tries included, 2.5 s: a client waits 2.5 s at worst for an
          // answer (a 503 when the upstreams cannot give one), never the 3 × 2 s of tries without a bound.
          timeoutMs: 1_000,
          deadlineMs: 2_500,
          retryBudget: { ratio: 0.2, minPerSecond: 10 },
          outlierDetection: { consecutiveFailures: 3, baseEjectionMs: 2_000, maxEjectionMs: 30_000 },
          healthCheck: { path: '/health', intervalMs: 1_000, timeoutMs: 500 },
        }),
        TaskQueueModule.forRoot({
          driver: redis ? 'bullmq' : 'memory',
          connection: redis,
          prefix: config.queuePrefix,
          workers: config.workers,
          concurrency: 20,
          attempts: 5,
          backoff: { type: 'exponential', delayMs: 200, jitter: 0.5 },
          shutdownDeadlineMs: 10_000,
          // Bounded in both drivers: what `GET /orders/:id` can still show (older tasks show as `expired`).
          retention: {
            completed: { count: config.taskRetentionCount, ageMs: 24 * 3600_000 },
            dead: { count: config.taskRetentionCount, ageMs: 7 * 24 * 3600_000 },
          },
          // A dead gateway's tasks resume on another within lock + stall check (≤ 7 s) instead of BullMQ's ~60 s,
          // at the price of a lock renewal every 2.5 s per running task, and a handler that blocks its event loop
          // for 5 s being taken for dead and run again: handlers here are idempotent by order id.
          bullmq: { lockDurationMs: 5_000, stalledIntervalMs: 2_000, maxStalledCount: 2 },
        }),
        TerminusModule,
      ],
      controllers: [
        CatalogController,
        OrdersController,
        CartController,
        HealthController,
        MetricsController,
        AdminController,
        DashboardController,
      ],
      providers: [
        {
          provide: OrderRepository,
          inject: [GatewayRedis],
          useFactory: ({ client }: GatewayRedis) =>
            client
              ? new RedisOrderRepository(client, config.keyPrefix)
              : new InMemoryOrderRepository(config.orderRetentionCount),
        },
        {
          provide: CartRepository,
          inject: [GatewayRedis],
          useFactory: ({ client }: GatewayRedis) =>
            client ? new RedisCartRepository(client, config.keyPrefix) : new InMemoryCartRepository(),
        },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
        { provide: APP_FILTER, useClass: AppErrorsFilter },
        AdminTokenGuard,
        CatalogService,
        OrdersService,
        OrderTasks,
        CartService,
        TrafficHistory,
        { provide: DemoTelemetry, useValue: telemetry },
        RedisHealthIndicator,
      ],
    };
  }
}
