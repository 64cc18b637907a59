import { type ArgumentsHost, Catch, type ExceptionFilter, Logger } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { NoAvailableNodeError } from '@nest-scale/load-balancer';
import { UpstreamUnavailableError } from './upstream-unavailable.error.js';

/** Upstream outages become 503 with a message that says what happened, never a crash or a bare 500. */
@Catch(NoAvailableNodeError, UpstreamUnavailableError)
export class UpstreamErrorsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Upstreams');

  constructor(private readonly adapterHost: HttpAdapterHost) {}

  catch(error: Error, host: ArgumentsHost): void {
    this.logger.warn(`${error.name}: ${error.message}`);
    const { httpAdapter } = this.adapterHost;
    const response = host.switchToHttp().getResponse<unknown>();
    httpAdapter.setHeader(response, 'retry-after', '1');
    httpAdapter.reply(
      response,
      { statusCode: 503, error: 'Service Unavailable', message: `upstream unavailable: ${error.message}` },
      503,
    );
  }
}
