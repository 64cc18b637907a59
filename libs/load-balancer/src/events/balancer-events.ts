import { EventEmitter } from 'node:events';
import type { Logger } from '@nestjs/common';
import type { LoadBalancerEvents } from '../interfaces/load-balancer-events.interface.js';
import { LISTENER_THREW } from '../load-balancer.messages.js';

/** The balancer's events. A listener that throws is logged and never reaches the code that emitted. */
export class BalancerEvents {
  private readonly emitter = new EventEmitter();

  constructor(private readonly logger: Logger) {}

  on<E extends keyof LoadBalancerEvents>(event: E, listener: (payload: LoadBalancerEvents[E]) => void): () => void {
    this.emitter.on(event, listener);
    return () => this.emitter.off(event, listener);
  }

  emit<E extends keyof LoadBalancerEvents>(event: E, payload: LoadBalancerEvents[E]): void {
    try {
      this.emitter.emit(event, payload);
    } catch (error) {
      this.logger.error(LISTENER_THREW(event, String(error)));
    }
  }
}
