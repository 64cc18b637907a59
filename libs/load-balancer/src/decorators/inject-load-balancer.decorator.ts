import { Inject } from '@nestjs/common';
import { getLoadBalancerToken } from '../load-balancer.tokens.js';

/** Injects the balancer called `name` (default: the one from `forRoot`). @publicApi */
export const InjectLoadBalancer = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getLoadBalancerToken(name));
