import {
  DEFAULT_LOAD_BALANCER_NAME,
  LOAD_BALANCED_HTTP_CLIENT_TOKEN_PREFIX,
  LOAD_BALANCER_OPTIONS_TOKEN_PREFIX,
  LOAD_BALANCER_STRATEGY_TOKEN_PREFIX,
  LOAD_BALANCER_TOKEN_PREFIX,
} from './load-balancer.constants.js';

/** DI token of the balancer called `name` (default: the `forRoot` one). @publicApi */
export function getLoadBalancerToken(name = DEFAULT_LOAD_BALANCER_NAME): string {
  return `${LOAD_BALANCER_TOKEN_PREFIX}${name}`;
}

/** DI token of the HTTP client bound to the balancer called `name`. @publicApi */
export function getLoadBalancedHttpClientToken(name = DEFAULT_LOAD_BALANCER_NAME): string {
  return `${LOAD_BALANCED_HTTP_CLIENT_TOKEN_PREFIX}${name}`;
}

/** @internal */
export function getLoadBalancerOptionsToken(name: string): string {
  return `${LOAD_BALANCER_OPTIONS_TOKEN_PREFIX}${name}`;
}

/** @internal */
export function getLoadBalancerStrategyToken(name: string): string {
  return `${LOAD_BALANCER_STRATEGY_TOKEN_PREFIX}${name}`;
}
