/** Meter and tracer name: the package's. */
export const INSTRUMENTATION_NAME = '@nest-scale/load-balancer';
/** The package version (a spec keeps it equal to package.json's). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/** Instrument names: the contract of `monitoring/README.md` (its Prometheus alerts and Grafana dashboard). */
export const METRIC_REQUEST_DURATION = 'nest_scale.lb.request.duration';
export const METRIC_REQUESTS_IN_FLIGHT = 'nest_scale.lb.requests.in_flight';
export const METRIC_RETRIES = 'nest_scale.lb.retries';
export const METRIC_EJECTIONS = 'nest_scale.lb.ejections';
export const METRIC_NODE_STATE = 'nest_scale.lb.node.state';
export const METRIC_NODE_HEALTH_SCORE = 'nest_scale.lb.node.health_score';

/** Span attributes (namespaced; the metric attributes are the bare `balancer`, `node`, `outcome` of the contract). */
export const ATTR_BALANCER = 'nest_scale.lb.balancer';
export const ATTR_NODE = 'nest_scale.lb.node';
export const ATTR_ATTEMPT = 'nest_scale.lb.attempt';
export const ATTR_HEDGE = 'nest_scale.lb.hedge';
export const ATTR_TRY_OUTCOME = 'nest_scale.lb.try.outcome';
export const ATTR_TRIES = 'nest_scale.lb.tries';

/**
 * Boundaries (s) of the try-duration histogram: OpenTelemetry's HTTP client duration advice, which spans a fast LAN
 * call to a 10 s timeout.
 */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10];
