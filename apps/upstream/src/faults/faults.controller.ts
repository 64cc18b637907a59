import { Body, Controller, Get, Put } from '@nestjs/common';
import { UpstreamConfig } from '../upstream.config.js';
import type { FaultSettings } from './fault-settings.js';
import { UpdateFaultsDto } from './update-faults.dto.js';

/** Changes injected faults at run time (tests and the demo's "make a node slow" story). */
@Controller('faults')
export class FaultsController {
  constructor(private readonly config: UpstreamConfig) {}

  @Get()
  get(): FaultSettings {
    return this.config.faults;
  }

  @Put()
  set(@Body() changes: UpdateFaultsDto): FaultSettings {
    const { latencyMs, jitterMs, failureRate, pathPrefix } = this.config.faults;
    Object.assign(this.config.faults, {
      latencyMs: changes.latencyMs ?? latencyMs,
      jitterMs: changes.jitterMs ?? jitterMs,
      failureRate: changes.failureRate ?? failureRate,
      pathPrefix: changes.pathPrefix ?? pathPrefix,
    });
    return this.config.faults;
  }
}
