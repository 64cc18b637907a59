/** Name of the balancer configured with `forRoot`. @publicApi */
export const DEFAULT_LOAD_BALANCER_NAME = 'default';

/** @internal */
export const LOAD_BALANCER_TOKEN_PREFIX = 'nest_scale:load_balancer:';
/** @internal */
export const LOAD_BALANCER_OPTIONS_TOKEN_PREFIX = 'nest_scale:load_balancer_options:';
/** @internal */
export const LOAD_BALANCER_STRATEGY_TOKEN_PREFIX = 'nest_scale:load_balancer_strategy:';
/** @internal */
export const LOAD_BALANCED_HTTP_CLIENT_TOKEN_PREFIX = 'nest_scale:load_balanced_http_client:';
