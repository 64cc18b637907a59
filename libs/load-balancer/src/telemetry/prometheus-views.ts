import { INSTRUMENTATION_NAME, METRIC_REQUEST_DURATION } from './telemetry-names.js';

/**
 * Views (`MeterProvider({ views })` of `@opentelemetry/sdk-metrics`) for the OpenTelemetry JS Prometheus exporter,
 * which, unlike the Collector's, does not append the unit to a histogram's name: they name the try-duration histogram
 * `nest_scale_lb_request_duration_seconds`, as the shipped alerts and dashboard (`monitoring/`) expect. Plain data, so
 * the library needs no SDK. Do not use them with an exporter that appends units itself.
 * @publicApi
 */
export const LOAD_BALANCER_PROMETHEUS_VIEWS: ReadonlyArray<{
  readonly meterName: string;
  readonly instrumentName: string;
  readonly name: string;
}> = [
  {
    meterName: INSTRUMENTATION_NAME,
    instrumentName: METRIC_REQUEST_DURATION,
    name: `${METRIC_REQUEST_DURATION}_seconds`,
  },
];
