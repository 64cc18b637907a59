import { type DynamicModule, Global, Module } from '@nestjs/common';
import { DemoConfig } from './demo-config.js';
import { GatewayRedis } from './gateway-redis.js';

/** The configuration and the gateway's own Redis connection, for every module of the app. */
@Global()
@Module({})
export class GatewayInfraModule {
  static forRoot(config: DemoConfig): DynamicModule {
    return {
      module: GatewayInfraModule,
      providers: [{ provide: DemoConfig, useValue: config }, GatewayRedis],
      exports: [DemoConfig, GatewayRedis],
    };
  }
}
