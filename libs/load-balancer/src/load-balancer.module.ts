import { Module, type DynamicModule, type FactoryProvider, type ModuleMetadata } from '@nestjs/common';
import { LoadBalancedHttpClient } from './http/load-balanced-http-client.js';
import type { LoadBalancerOptions, NamedLoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { DEFAULT_LOAD_BALANCER_NAME } from './load-balancer.constants.js';
import {
  ConfigurableLoadBalancerModule,
  LOAD_BALANCER_ASYNC_OPTIONS_TYPE,
  LOAD_BALANCER_MODULE_OPTIONS,
  LOAD_BALANCER_OPTIONS_TYPE,
} from './load-balancer.module-definition.js';
import { createLoadBalancerProviders, loadBalancerExports } from './load-balancer.providers.js';
import { LoadBalancer } from './load-balancer.service.js';
import {
  getLoadBalancedHttpClientToken,
  getLoadBalancerOptionsToken,
  getLoadBalancerToken,
} from './load-balancer.tokens.js';

/** Options of `LoadBalancerModule.registerAsync`. @publicApi */
export interface NamedLoadBalancerAsyncOptions extends Pick<ModuleMetadata, 'imports'> {
  name: string;
  inject?: FactoryProvider['inject'];
  useFactory: (...args: never[]) => LoadBalancerOptions | Promise<LoadBalancerOptions>;
  /** Default true. */
  isGlobal?: boolean;
}

/**
 * `forRoot` / `forRootAsync` configure the default balancer (inject `LoadBalancer`, or `@InjectLoadBalancer()`);
 * `register` / `registerAsync` add named ones (`@InjectLoadBalancer(name)`). Both can coexist in one app.
 * @publicApi
 */
@Module({})
export class LoadBalancerModule extends ConfigurableLoadBalancerModule {
  static override forRoot(options: typeof LOAD_BALANCER_OPTIONS_TYPE): DynamicModule {
    return withDefaultBalancer(super.forRoot(options));
  }

  static override forRootAsync(options: typeof LOAD_BALANCER_ASYNC_OPTIONS_TYPE): DynamicModule {
    return withDefaultBalancer(super.forRootAsync(options));
  }

  static register(options: NamedLoadBalancerOptions): DynamicModule {
    const { name, imports, isGlobal, ...balancerOptions } = options;
    const optionsToken = getLoadBalancerOptionsToken(name);
    return {
      module: LoadBalancerModule,
      global: isGlobal ?? true,
      imports: imports ?? [],
      providers: [
        { provide: optionsToken, useValue: balancerOptions },
        ...createLoadBalancerProviders(name, optionsToken),
      ],
      exports: loadBalancerExports(name),
    };
  }

  static registerAsync(options: NamedLoadBalancerAsyncOptions): DynamicModule {
    const optionsToken = getLoadBalancerOptionsToken(options.name);
    return {
      module: LoadBalancerModule,
      global: options.isGlobal ?? true,
      imports: options.imports ?? [],
      providers: [
        { provide: optionsToken, useFactory: options.useFactory, inject: options.inject ?? [] },
        ...createLoadBalancerProviders(options.name, optionsToken),
      ],
      exports: loadBalancerExports(options.name),
    };
  }
}

function withDefaultBalancer(definition: DynamicModule): DynamicModule {
  const name = DEFAULT_LOAD_BALANCER_NAME;
  return {
    ...definition,
    providers: [
      ...(definition.providers ?? []),
      ...createLoadBalancerProviders(name, LOAD_BALANCER_MODULE_OPTIONS),
      { provide: LoadBalancer, useExisting: getLoadBalancerToken(name) },
      { provide: LoadBalancedHttpClient, useExisting: getLoadBalancedHttpClientToken(name) },
    ],
    exports: [...(definition.exports ?? []), ...loadBalancerExports(name), LoadBalancer, LoadBalancedHttpClient],
  };
}
