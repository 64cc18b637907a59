import { NO_AVAILABLE_NODE } from '../load-balancer.messages.js';

/** Nothing can serve: no members, or every member ejected or draining with panic mode off. @publicApi */
export class NoAvailableNodeError extends Error {
  override readonly name = 'NoAvailableNodeError';

  constructor(
    readonly balancer: string,
    readonly members: number,
  ) {
    super(NO_AVAILABLE_NODE(balancer, members));
  }
}
