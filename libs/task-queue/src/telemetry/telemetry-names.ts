/** Meter and tracer name: the package's. */
export const INSTRUMENTATION_NAME = '@nest-scale/task-queue';
/** The package version (a spec keeps it equal to package.json's). */
export const INSTRUMENTATION_VERSION = '0.1.0';

/**
 * Instrument names: the OpenTelemetry messaging semantic conventions where they have one, and the contract of
 * `monitoring/README.md` (its Prometheus alerts and Grafana dashboard).
 */
export const METRIC_SENT_MESSAGES = 'messaging.client.sent.messages';
export const METRIC_OPERATION_DURATION = 'messaging.client.operation.duration';
export const METRIC_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_CONSUMED_MESSAGES = 'messaging.client.consumed.messages';
export const METRIC_QUEUE_TASKS = 'nest_scale.queue.tasks';
export const METRIC_RETRIES = 'nest_scale.queue.retries';
export const METRIC_DEAD_TASKS = 'nest_scale.queue.dead_tasks';

/** Metric attributes: the queue is the destination, the task name the operation name (as the contract says). */
export const ATTR_DESTINATION = 'messaging.destination.name';
export const ATTR_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_ERROR_TYPE = 'error.type';
export const ATTR_STATE = 'state';

/**
 * Span attributes. Spans follow the semantic conventions: `messaging.operation.name` is `send` or `process` there,
 * so the task name has an attribute of its own.
 */
export const ATTR_SYSTEM = 'messaging.system';
export const SYSTEM = 'nest_scale';
export const ATTR_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGE_ID = 'messaging.message.id';
export const ATTR_BATCH_COUNT = 'messaging.batch.message_count';
export const ATTR_TASK = 'nest_scale.queue.task';
export const ATTR_ATTEMPT = 'nest_scale.queue.attempt';
export const ATTR_BATCH_FAILED = 'nest_scale.queue.batch.failed';

/** `error.type` values past this many distinct ones per task name share `_OTHER` (semantic conventions' value). */
export const MAX_ERROR_TYPES = 64;
/** Task names past this many (jobs of unknown names read from Redis) share `_OTHER`: attributes stay bounded. */
export const MAX_TASK_NAMES = 256;
export const OTHER = '_OTHER';

/** Enqueues and runs between two lookups of the global tracer provider (see TaskQueueTelemetry.activeTracer). */
export const TRACER_LOOKUP_EVERY = 64;

/** How long a collection waits for the queue's counts (Redis for BullMQ) before it skips the depth points. */
export const QUEUE_DEPTH_TIMEOUT_MS = 1_000;

/** Boundaries (s) of the enqueue histogram: an in-process add (µs) to a Redis round trip at its timeout. */
export const OPERATION_BUCKETS_S = [
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
];
/** Boundaries (s) of the handler histogram: a millisecond task to a minute-long job. */
export const PROCESS_BUCKETS_S = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
