import type { Provider, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { HealthChecker } from './health-checks/health-checker.js';
import { LoadBalancedHttpClient } from './http/load-balanced-http-client.js';
import type { LoadBalancerOptions } from './interfaces/load-balancer-options.interface.js';
import { LoadBalancer } from './load-balancer.service.js';
import {
  getLoadBalancedHttpClientToken,
  getLoadBalancerStrategyToken,
  getLoadBalancerToken,
} from './load-balancer.tokens.js';
import { BUILTIN_STRATEGIES } from './strategies/builtin-strategies.js';
import type { LoadBalancingStrategy } from './strategies/load-balancing-strategy.js';

/**
 * The providers of one balancer: its strategy (a fresh DI-built instance, so each balancer owns its tables), the
 * balancer and its HTTP client. `optionsToken` resolves to the balancer's options.
 */
export function createLoadBalancerProviders(name: string, optionsToken: string | symbol): Provider[] {
  const strategyToken = getLoadBalancerStrategyToken(name);
  const balancerToken = getLoadBalancerToken(name);
  return [
    {
      provide: strategyToken,
      inject: [optionsToken, ModuleRef],
      useFactory: (
        options: LoadBalancerOptions,
        moduleRef: ModuleRef,
      ): Promise<LoadBalancingStrategy> | LoadBalancingStrategy => {
        const strategy = options.strategy ?? 'p2c-ewma';
        if (typeof strategy === 'function') return moduleRef.create(strategy);
        const builtin = BUILTIN_STRATEGIES[strategy] as Type<LoadBalancingStrategy> | undefined;
        // An unknown name is reported by the balancer's own validation, which names the balancer.
        return builtin === undefined ? (undefined as unknown as LoadBalancingStrategy) : new builtin();
      },
    },
    {
      provide: balancerToken,
      inject: [optionsToken, strategyToken, ModuleRef],
      useFactory: async (
        options: LoadBalancerOptions,
        strategy: LoadBalancingStrategy | undefined,
        moduleRef: ModuleRef,
      ) => {
        const checker = options.healthCheck ? options.healthCheck.checker : undefined;
        const healthChecker: HealthChecker | undefined =
          typeof checker === 'function' ? await moduleRef.create(checker) : checker;
        return new LoadBalancer({ ...options, name }, strategy ?? undefined, healthChecker);
      },
    },
    {
      provide: getLoadBalancedHttpClientToken(name),
      inject: [balancerToken],
      useFactory: (balancer: LoadBalancer) => new LoadBalancedHttpClient(balancer, balancer.options.http),
    },
  ];
}

export function loadBalancerExports(name: string): string[] {
  return [getLoadBalancerToken(name), getLoadBalancedHttpClientToken(name)];
}
