import { INSTRUMENTATION_NAME, METRIC_L2_OPERATION_DURATION, METRIC_LOADER_DURATION } from './telemetry-names.js';

/**
 * Views (`MeterProvider({ views })` of `@opentelemetry/sdk-metrics`) for the OpenTelemetry JS Prometheus exporter,
 * which does not append the unit to a histogram's name: they name the cache's histograms `…_seconds`, as the shipped
 * alerts and dashboard (`monitoring/`) expect. Plain data, so the library needs no SDK. Do not use them with an
 * exporter that appends units itself.
 * @publicApi
 */
export const MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS: ReadonlyArray<{
  readonly meterName: string;
  readonly instrumentName: string;
  readonly name: string;
}> = [METRIC_LOADER_DURATION, METRIC_L2_OPERATION_DURATION].map((instrumentName) => ({
  meterName: INSTRUMENTATION_NAME,
  instrumentName,
  name: `${instrumentName}_seconds`,
}));
