import { Controller, Get, Header } from '@nestjs/common';
import { DemoTelemetry } from '../telemetry/demo-telemetry.js';

/** Prometheus scrapes the libraries' OpenTelemetry instruments here, on the gateway's own port. */
@Controller('metrics')
export class MetricsController {
  constructor(private readonly telemetry: DemoTelemetry) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  scrape(): Promise<string> {
    return this.telemetry.scrape();
  }
}
