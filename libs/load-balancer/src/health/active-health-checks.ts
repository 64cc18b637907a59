import type { Clock } from '../clock/clock.js';
import type { HealthChecker } from '../health-checks/health-checker.js';
import { HttpHealthChecker } from '../health-checks/http-health-checker.js';
import type { HealthCheckOptions } from '../interfaces/load-balancer-options.interface.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { OutlierDetector } from './outlier-detector.js';

export interface HealthCheckSettings {
  readonly intervalMs: number;
  readonly timeoutMs: number;
  readonly healthyThreshold: number;
  readonly unhealthyThreshold: number;
}

export function resolveHealthCheckSettings(options: HealthCheckOptions): HealthCheckSettings {
  return {
    intervalMs: options.intervalMs ?? 10_000,
    timeoutMs: options.timeoutMs ?? 2_000,
    healthyThreshold: options.healthyThreshold ?? 2,
    unhealthyThreshold: options.unhealthyThreshold ?? 3,
  };
}

/** The checker to use: an injected one, the instance in the options, else HTTP GET `path`. */
export function healthCheckerFor(
  options: HealthCheckOptions,
  protocol: 'http' | 'https' | undefined,
  injected: HealthChecker | undefined,
): HealthChecker {
  if (injected !== undefined) return injected;
  if (options.checker !== undefined && typeof options.checker !== 'function') return options.checker;
  return new HttpHealthChecker(options.path ?? '/health', protocol ?? 'http');
}

/**
 * One round of active health checks: every node in rotation is checked at once, each check bounded by `timeoutMs`
 * (a checker that ignores its signal counts as unhealthy at the timeout). Owns `activeStreak`; a streak past a
 * threshold is an input to the outlier detector.
 */
export class ActiveHealthChecks {
  constructor(
    private readonly settings: HealthCheckSettings,
    private readonly checker: HealthChecker,
    private readonly clock: Clock,
    private readonly outlier: OutlierDetector,
    /** Nodes in rotation, and whether a node is still that member after the check. */
    private readonly members: { readonly active: readonly UpstreamNode[]; isMember(node: UpstreamNode): boolean },
  ) {}

  get intervalMs(): number {
    return this.settings.intervalMs;
  }

  async runRound(): Promise<void> {
    await Promise.all(this.members.active.map((node) => this.checkNode(node)));
  }

  private async checkNode(node: UpstreamNode): Promise<void> {
    const controller = new AbortController();
    const timer = this.clock.setTimeout(() => controller.abort(), this.settings.timeoutMs);
    let healthy: boolean;
    try {
      healthy = await Promise.race([
        this.checker.check(node, controller.signal),
        new Promise<boolean>((resolve) => controller.signal.addEventListener('abort', () => resolve(false))),
      ]);
    } catch {
      healthy = false;
    } finally {
      this.clock.clearTimeout(timer);
    }
    if (node.state === 'draining' || !this.members.isMember(node)) return;
    node.activeStreak = healthy ? Math.max(0, node.activeStreak) + 1 : Math.min(0, node.activeStreak) - 1;
    if (-node.activeStreak >= this.settings.unhealthyThreshold) this.outlier.activeCheckFailed(node);
    else if (node.activeStreak >= this.settings.healthyThreshold) this.outlier.activeCheckPassed(node);
  }
}
