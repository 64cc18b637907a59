import { Inject } from '@nestjs/common';
import { getLoadBalancedHttpClientToken } from '../load-balancer.tokens.js';

/** Injects the HTTP client bound to the balancer called `name` (default: the one from `forRoot`). @publicApi */
export const InjectLoadBalancedHttpClient = (name?: string): ParameterDecorator & PropertyDecorator =>
  Inject(getLoadBalancedHttpClientToken(name));
