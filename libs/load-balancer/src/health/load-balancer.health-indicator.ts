import { Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { LoadBalancer } from '../load-balancer.service.js';
import { getLoadBalancerToken } from '../load-balancer.tokens.js';

/** @publicApi */
export interface LoadBalancerHealthOptions {
  /** The balancer to check (default: the `forRoot` one). */
  balancer?: string;
  /** Fewer nodes able to take traffic than this is `down` (default 1). */
  minAvailable?: number;
}

/**
 * What a `@nestjs/terminus` health indicator returns, built here without importing terminus (an optional peer).
 * @publicApi
 */
export type LoadBalancerHealthIndicatorResult = Record<
  string,
  { status: 'up' | 'degraded' | 'down'; available: number; total: number; ejected: string[]; draining: string[] }
>;

/**
 * A health indicator for `@nestjs/terminus`: `down` when fewer than `minAvailable` nodes can take traffic (healthy
 * or probing), `degraded` while some are ejected or draining, else `up`. @publicApi
 */
@Injectable()
export class LoadBalancerHealthIndicator {
  constructor(private readonly moduleRef: ModuleRef) {}

  isHealthy(key = 'upstreams', options: LoadBalancerHealthOptions = {}): LoadBalancerHealthIndicatorResult {
    const { balancer, minAvailable = 1 } = options;
    const nodes = this.moduleRef.get<LoadBalancer>(getLoadBalancerToken(balancer), { strict: false }).nodes();
    const available = nodes.filter((n) => n.state === 'healthy' || n.state === 'probing').length;
    const ejected = nodes.filter((n) => n.state === 'ejected').map((n) => n.id);
    const draining = nodes.filter((n) => n.state === 'draining').map((n) => n.id);
    const status = available < minAvailable ? 'down' : available < nodes.length ? 'degraded' : 'up';
    return { [key]: { status, available, total: nodes.length, ejected, draining } };
  }
}
