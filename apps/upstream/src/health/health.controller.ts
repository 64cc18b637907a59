import { Controller, Get } from '@nestjs/common';
import { UpstreamConfig } from '../upstream.config.js';

@Controller('health')
export class HealthController {
  constructor(private readonly config: UpstreamConfig) {}

  @Get()
  check() {
    return { status: 'ok', node: this.config.nodeId };
  }
}
