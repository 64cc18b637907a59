import type { UpstreamNode } from '../node/upstream-node.js';

/**
 * Decides whether a node is healthy for active health checks. Extend it (and decorate with `@Injectable()`) to check
 * something else than HTTP, then pass the class or an instance as `healthCheck.checker`.
 * @publicApi
 */
export abstract class HealthChecker {
  /** Resolve true when healthy; resolving false or rejecting counts as a failed check. Honour `signal`. */
  abstract check(node: UpstreamNode, signal: AbortSignal): Promise<boolean>;
}
