import {
  type CallHandler,
  type ExecutionContext,
  Injectable,
  type NestInterceptor,
  ServiceUnavailableException,
} from '@nestjs/common';
import { from, type Observable, switchMap } from 'rxjs';
import { UpstreamConfig } from '../upstream.config.js';

@Injectable()
export class FaultInjectionInterceptor implements NestInterceptor {
  constructor(private readonly config: UpstreamConfig) {}

  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> {
    if (context.getClass().name === 'FaultsController') return next.handle();
    const { latencyMs, jitterMs, failureRate, pathPrefix } = this.config.faults;
    if (pathPrefix !== '' && !context.switchToHttp().getRequest<{ url: string }>().url.startsWith(pathPrefix)) {
      return next.handle();
    }
    const delay = latencyMs + (jitterMs > 0 ? Math.random() * jitterMs : 0);
    return from(delay > 0 ? new Promise((r) => setTimeout(r, delay)) : Promise.resolve()).pipe(
      switchMap(() => {
        if (failureRate > 0 && Math.random() < failureRate) {
          throw new ServiceUnavailableException(`upstream ${this.config.nodeId}: injected failure`);
        }
        return next.handle();
      }),
    );
  }
}
