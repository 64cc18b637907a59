import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { BaseExceptionFilter } from '@nestjs/core';
import { NoAvailableNodeError } from '@nest-scale/load-balancer';
import { TaskEnqueueError } from '@nest-scale/task-queue';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { UpstreamUnavailableError } from '../catalog/upstream-unavailable.error.js';
import { DependencyUnavailableError } from './dependency-unavailable.error.js';

/** Seconds a client should wait before retrying a request that failed on an unavailable dependency. */
export const RETRY_AFTER_SECONDS = 1;

/** Error codes of a connection that failed or was cut: the client or a dependency went away, not a bug. */
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENOTFOUND',
]);

/**
 * Every error of every route ends here. HTTP exceptions keep Nest's answer; an unavailable dependency is a 503 with
 * `Retry-After` that names it; anything else is a 500 whose body carries an id to find the one log line with the stack,
 * never the stack itself.
 */
@Catch()
export class AppErrorsFilter extends BaseExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('Errors');

  override catch(error: unknown, host: ArgumentsHost): void {
    if (error instanceof HttpException) return super.catch(error, host);
    const adapter = this.httpAdapterHost!.httpAdapter;
    const http = host.switchToHttp();
    const response = http.getResponse<unknown>();
    if (clientWentAway(http.getRequest())) {
      this.logger.debug?.(`client went away: ${(error as Error).message}`);
      return;
    }
    const clientError = clientErrorStatus(error);
    if (clientError !== undefined) {
      adapter.reply(response, { statusCode: clientError, message: (error as Error).message }, clientError);
      return;
    }
    const unavailable = unavailableDependency(error);
    if (unavailable) {
      this.logger.warn(`${unavailable}: ${(error as Error).message}`);
      adapter.setHeader(response, 'retry-after', String(RETRY_AFTER_SECONDS));
      adapter.reply(
        response,
        { statusCode: 503, error: 'Service Unavailable', message: messageFor(unavailable, error as Error) },
        503,
      );
      return;
    }
    const errorId = randomUUID();
    this.logger.error(`unexpected error ${errorId}`, error instanceof Error ? error.stack : String(error));
    adapter.reply(
      response,
      { statusCode: 500, error: 'Internal Server Error', message: `unexpected error; logged as ${errorId}` },
      500,
    );
  }
}

/**
 * An aborted upload or a dropped connection: nothing to answer, and not the server's fault. (The socket, not the
 * request stream, which destroys itself once its body has been read.)
 */
function clientWentAway(request: { raw?: IncomingMessage } | IncomingMessage): boolean {
  const raw = 'raw' in request && request.raw ? request.raw : (request as IncomingMessage);
  return raw.socket?.destroyed === true;
}

/** Errors of the HTTP layer (Fastify's body parsing: 413, 415, …) carry the 4xx status they stand for. */
function clientErrorStatus(error: unknown): number | undefined {
  const status = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof status === 'number' && status >= 400 && status < 500 ? status : undefined;
}

/** The dependency an error says is unavailable, or undefined when the error is not an infrastructure failure. */
function unavailableDependency(error: unknown): string | undefined {
  if (error instanceof DependencyUnavailableError) return error.dependency;
  if (error instanceof NoAvailableNodeError || error instanceof UpstreamUnavailableError) return 'upstream';
  if (error instanceof TaskEnqueueError) return 'task queue';
  if (!(error instanceof Error)) return undefined;
  // A safety net for a Redis call that no adapter wrapped: ioredis's errors while disconnected.
  const code = (error as NodeJS.ErrnoException).code;
  if (
    (code !== undefined && CONNECTION_ERROR_CODES.has(code)) ||
    error.name === 'MaxRetriesPerRequestError' ||
    /Connection is closed|enableOfflineQueue|Stream isn't writeable/.test(error.message)
  ) {
    return 'Redis';
  }
  return undefined;
}

function messageFor(dependency: string, error: Error): string {
  return error instanceof DependencyUnavailableError ? error.message : `${dependency} unavailable: ${error.message}`;
}
