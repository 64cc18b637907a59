/** Meter and tracer name: the package's. */
export const INSTRUMENTATION_NAME = '@nest-scale/multi-level-cache';
/** The package version (a spec keeps it equal to package.json's). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/** Instrument names: the contract of `monitoring/README.md` (its Prometheus alerts and Grafana dashboard). */
export const METRIC_REQUESTS = 'nest_scale.cache.requests';
export const METRIC_LOADER_DURATION = 'nest_scale.cache.loader.duration';
export const METRIC_L2_OPERATION_DURATION = 'nest_scale.cache.l2.operation.duration';
export const METRIC_L2_AVAILABLE = 'nest_scale.cache.l2.available';
export const METRIC_BUS_LIVE = 'nest_scale.cache.bus.live';
export const METRIC_L1_ENTRIES = 'nest_scale.cache.l1.entries';
export const METRIC_BUS_MESSAGES = 'nest_scale.cache.bus.messages';

/** Span attributes (the metric attributes are `cache.name`, `cache.tier`, `cache.outcome` of the contract). */
export const ATTR_CACHE_NAME = 'cache.name';
export const ATTR_NAMESPACE = 'nest_scale.cache.namespace';
export const ATTR_KEYS = 'nest_scale.cache.keys';

/** Boundaries (s) of the loader histogram: a fast in-memory source to a 10 s database query. */
export const LOADER_BUCKETS_S = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Boundaries (s) of the L2 histogram: a local Redis round trip (~50 µs) to the default 50 ms time budget and past. */
export const L2_BUCKETS_S = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25];
