import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { NoAvailableNodeError } from '@nest-scale/load-balancer';
import type { Response } from 'express';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

/** Upstream outages become 503 with a message that says what happened, never a crash or a bare 500. */
@Catch(NoAvailableNodeError, UpstreamUnavailableError)
export class UpstreamErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Upstreams');

  catch(error: Error, host: ArgumentsHost): void {
    this.logger.warn(`${error.name}: ${error.message}`);
    host
      .switchToHttp()
      .getResponse<Response>()
      .status(503)
      .setHeader('retry-after', '1')
      .json({ statusCode: 503, error: 'Service Unavailable', message: `upstream unavailable: ${error.message}` });
  }
}
