import { Logger, type OnApplicationShutdown } from '@nestjs/common';
import { metrics } from '@opentelemetry/api';
import { PrometheusExporter, PrometheusSerializer } from '@opentelemetry/exporter-prometheus';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { MeterProvider } from '@opentelemetry/sdk-metrics';
import { LOAD_BALANCER_PROMETHEUS_VIEWS } from '@nest-scale/load-balancer';
import { MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS } from '@nest-scale/multi-level-cache';
import { TASK_QUEUE_PROMETHEUS_VIEWS } from '@nest-scale/task-queue';
import { DemoConfigError } from '../config/demo-config.js';

/**
 * A scrape waits at most this long for an observable callback; one that has not answered is left out of that scrape
 * and logged, so `/metrics` answers whatever a callback waits on. A backstop: the queue's depth (a Redis read with
 * BullMQ) gives up on its own after 1 s.
 */
const COLLECT_TIMEOUT_MS = 2_000;
/** How long shutdown waits for the SDK before the process goes on exiting. */
const SHUTDOWN_TIMEOUT_MS = 1_000;

/**
 * The OpenTelemetry SDK of the gateway: a MeterProvider whose one reader is a Prometheus exporter that opens no port of
 * its own (`GET /metrics` serves it). Created by `DemoTelemetry.start()` before `NestFactory.create`, because the
 * libraries take their meters when their providers are constructed; a Nest provider from then on, so the controller
 * can read it and app shutdown stops it.
 */
export class DemoTelemetry implements OnApplicationShutdown {
  private readonly logger = new Logger('Telemetry');
  private readonly serializer = new PrometheusSerializer();

  private constructor(
    private readonly provider: MeterProvider,
    private readonly exporter: PrometheusExporter,
  ) {}

  /** Registers the SDK globally; a `DemoConfigError` when a MeterProvider is registered already. */
  static start(instanceId: string): DemoTelemetry {
    const exporter = new PrometheusExporter({ preventServerStart: true });
    const provider = new MeterProvider({
      resource: resourceFromAttributes({ 'service.name': 'nest-scale-demo', 'service.instance.id': instanceId }),
      views: [...LOAD_BALANCER_PROMETHEUS_VIEWS, ...MULTI_LEVEL_CACHE_PROMETHEUS_VIEWS, ...TASK_QUEUE_PROMETHEUS_VIEWS],
      readers: [exporter],
    });
    if (!metrics.setGlobalMeterProvider(provider)) {
      // Another SDK (an --import of an auto-instrumentation, say) would get the libraries' meters: /metrics would be empty.
      throw new DemoConfigError(
        'an OpenTelemetry MeterProvider is already registered in this process; the gateway registers its own for ' +
          '/metrics: start it without the other SDK.',
      );
    }
    return new DemoTelemetry(provider, exporter);
  }

  /** The Prometheus text exposition of every instrument registered with the global MeterProvider. */
  async scrape(): Promise<string> {
    const { resourceMetrics, errors } = await this.exporter.collect({ timeoutMillis: COLLECT_TIMEOUT_MS });
    if (errors.length > 0) this.logger.warn(`scrape left out what failed: ${errors.map(String).join('; ')}`);
    return this.serializer.serialize(resourceMetrics);
  }

  async onApplicationShutdown(): Promise<void> {
    metrics.disable();
    await this.provider.shutdown({ timeoutMillis: SHUTDOWN_TIMEOUT_MS }).catch((error: Error) => {
      this.logger.warn(`OpenTelemetry SDK shutdown: ${error.message}`);
    });
  }
}
