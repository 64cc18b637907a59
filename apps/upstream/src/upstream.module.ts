import { type DynamicModule, Module, ValidationPipe } from '@nestjs/common';
import { APP_INTERCEPTOR, APP_PIPE } from '@nestjs/core';
import { FaultInjectionInterceptor } from './faults/fault-injection.interceptor.js';
import { type FaultSettings, NO_FAULTS } from './faults/fault-settings.js';
import { FaultsController } from './faults/faults.controller.js';
import { HealthController } from './health/health.controller.js';
import { InventoryController } from './inventory/inventory.controller.js';
import { ProductRepository } from './products/product.repository.js';
import { ProductsController } from './products/products.controller.js';
import { UpstreamConfig } from './upstream.config.js';

export interface UpstreamOptions {
  nodeId: string;
  /** Shared storage: one repository object for in-process nodes, a Redis one across processes. */
  repository: ProductRepository;
  faults?: Partial<FaultSettings>;
}

@Module({})
export class UpstreamModule {
  static forRoot(options: UpstreamOptions): DynamicModule {
    const faults: FaultSettings = { ...NO_FAULTS, ...options.faults };
    return {
      module: UpstreamModule,
      controllers: [ProductsController, InventoryController, FaultsController, HealthController],
      providers: [
        { provide: UpstreamConfig, useValue: new UpstreamConfig(options.nodeId, faults) },
        { provide: ProductRepository, useValue: options.repository },
        { provide: APP_INTERCEPTOR, useClass: FaultInjectionInterceptor },
        {
          provide: APP_PIPE,
          useValue: new ValidationPipe({ whitelist: true, forbidNonWhitelisted: true, transform: true }),
        },
      ],
    };
  }
}
