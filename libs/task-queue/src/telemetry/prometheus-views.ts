import { INSTRUMENTATION_NAME, METRIC_OPERATION_DURATION, METRIC_PROCESS_DURATION } from './telemetry-names.js';

/**
 * Views (`MeterProvider({ views })` of `@opentelemetry/sdk-metrics`) for the OpenTelemetry JS Prometheus exporter,
 * which does not append the unit to a histogram's name: they name the task queue's histograms `…_seconds`
 * (`messaging_client_operation_duration_seconds`, `messaging_process_duration_seconds`), as the shipped alerts and
 * dashboard (`monitoring/`) expect. Plain data, so the library needs no SDK. Do not use them with an exporter that
 * appends units itself.
 * @publicApi
 */
export const TASK_QUEUE_PROMETHEUS_VIEWS: ReadonlyArray<{
  readonly meterName: string;
  readonly instrumentName: string;
  readonly name: string;
}> = [METRIC_OPERATION_DURATION, METRIC_PROCESS_DURATION].map((instrumentName) => ({
  meterName: INSTRUMENTATION_NAME,
  instrumentName,
  name: `${instrumentName}_seconds`,
}));
