import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';

/** Builds `forRoot` / `forRootAsync` of the default balancer; global unless `isGlobal: false`. */
export const {
  ConfigurableModuleClass: ConfigurableLoadBalancerModule,
  MODULE_OPTIONS_TOKEN: LOAD_BALANCER_MODULE_OPTIONS,
  OPTIONS_TYPE: LOAD_BALANCER_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: LOAD_BALANCER_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<LoadBalancerOptions>({ moduleName: 'LoadBalancer' })
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
