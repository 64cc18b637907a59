import type { Clock, TimerHandle } from '../clock/clock.js';
import type { BalancerEvents } from '../events/balancer-events.js';
import type { EjectionReason } from '../interfaces/load-balancer-events.interface.js';
import type { NodeSnapshot } from '../interfaces/node-snapshot.interface.js';
import type { OutlierDetectionOptions } from '../interfaces/load-balancer-options.interface.js';
import { ADMIT_PROBE, type UpstreamNode } from '../node/upstream-node.js';
import type { RandomSource } from '../random/random-source.js';
import type { SlowStart } from '../selection/slow-start.js';
import type { NodeHealthModel } from './node-health-model.js';

export type OutlierSettings = Required<OutlierDetectionOptions>;

/** Default probe timeout also applies with outlier detection off (probes then come only from active checks). */
const DEFAULT_PROBE_TIMEOUT_MS = 30_000;

export function resolveOutlierSettings(
  options: OutlierDetectionOptions | false | undefined,
): OutlierSettings | undefined {
  if (options === false) return undefined;
  return {
    consecutiveFailures: options?.consecutiveFailures ?? 5,
    errorRateThreshold: options?.errorRateThreshold ?? 0.5,
    minRequests: options?.minRequests ?? 10,
    baseEjectionMs: options?.baseEjectionMs ?? 5_000,
    maxEjectionMs: options?.maxEjectionMs ?? 300_000,
    jitter: options?.jitter ?? 0.2,
    maxEjectionPercent: options?.maxEjectionPercent ?? 50,
    probeTimeoutMs: options?.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS,
  };
}

export interface OutlierDetectorDeps {
  readonly clock: Clock;
  readonly random: RandomSource;
  readonly health: NodeHealthModel;
  readonly slowStart: SlowStart;
  readonly events: BalancerEvents;
  readonly balancer: string;
  readonly snapshot: (node: UpstreamNode, now: number) => NodeSnapshot;
  /** Nodes in rotation, for the `maxEjectionPercent` cap. */
  readonly members: () => readonly UpstreamNode[];
  /** Called after every transition: the selectable set may have changed. */
  readonly changed: () => void;
}

/**
 * Outlier detection as an explicit state machine over `node.state` (draining is the membership's and final):
 *
 *   healthy ──(consecutive failures | error rate, within maxEjectionPercent)──▶ ejected
 *   ejected ──(ejection timer: base × 2^ejections, jittered, capped)──────────▶ probing
 *   probing ──(one admitted request succeeds)──▶ healthy (slow start begins, error record cleared)
 *   probing ──(it fails)──▶ ejected (longer)     probing ──(probe aborted or timed out)──▶ probing (slot free again)
 *   any ──(active checks fail unhealthyThreshold times)──▶ ejected until they pass healthyThreshold times ──▶ healthy
 *
 * Owns `state` (but draining), the probe admission bit, `probeInFlight`, `ejections`, `ejectedUntil`,
 * `activeFailing`, and the per-node ejection and probe timers.
 */
export class OutlierDetector {
  private readonly timers = new Map<UpstreamNode, TimerHandle>();
  private readonly probeTimeoutMs: number;

  constructor(
    private readonly settings: OutlierSettings | undefined,
    private readonly deps: OutlierDetectorDeps,
  ) {
    this.probeTimeoutMs = settings?.probeTimeoutMs ?? DEFAULT_PROBE_TIMEOUT_MS;
  }

  /** Input: an outcome the health model has just recorded. */
  outcome(node: UpstreamNode, failed: boolean, now: number): void {
    if (node.state === 'probing') {
      node.probeInFlight = false;
      this.clearTimer(node);
      if (failed) this.eject(node, 'probe-failed', now, true);
      else this.recover(node, now);
      return;
    }
    const o = this.settings;
    if (!failed || node.state !== 'healthy' || o === undefined) return;
    if (node.consecutiveFailures >= o.consecutiveFailures) this.eject(node, 'consecutive-failures', now, false);
    else if (node.decayedRequests >= o.minRequests && node.errorRate >= o.errorRateThreshold) {
      this.eject(node, 'error-rate', now, false);
    }
  }

  /** Input: the selector admitted a request to a probing node. Half-open: one request at a time. */
  admitProbe(node: UpstreamNode): void {
    if (node.probeInFlight || node.state !== 'probing') return;
    node.probeInFlight = true;
    this.timers.set(
      node,
      this.deps.clock.setTimeout(() => this.cancelProbe(node), this.probeTimeoutMs),
    );
    this.deps.changed();
  }

  /** Input: the admitted probe was aborted or never sent; the slot is free again. */
  cancelProbe(node: UpstreamNode): void {
    if (!node.probeInFlight) return;
    node.probeInFlight = false;
    this.clearTimer(node);
    this.deps.changed();
  }

  /** Input: active health checks failed `unhealthyThreshold` times in a row. */
  activeCheckFailed(node: UpstreamNode): void {
    if (node.activeFailing) return;
    node.activeFailing = true;
    this.clearTimer(node);
    node.state = 'ejected';
    node.admission = 0;
    node.probeInFlight = false;
    this.deps.changed();
    this.deps.events.emit('ejected', {
      balancer: this.deps.balancer,
      node: this.deps.snapshot(node, this.deps.clock.now()),
      reason: 'active-health-check',
      durationMs: Number.POSITIVE_INFINITY,
    });
  }

  /** Input: active health checks passed `healthyThreshold` times in a row after failing. */
  activeCheckPassed(node: UpstreamNode): void {
    if (!node.activeFailing) return;
    node.activeFailing = false;
    this.recover(node, this.deps.clock.now());
  }

  /** The node left rotation (draining): no more transitions, timers or probe slot. */
  forget(node: UpstreamNode): void {
    node.admission = 0;
    node.probeInFlight = false;
    this.clearTimer(node);
  }

  close(): void {
    for (const timer of this.timers.values()) this.deps.clock.clearTimeout(timer);
    this.timers.clear();
  }

  private eject(node: UpstreamNode, reason: EjectionReason, now: number, already: boolean): void {
    const o = this.settings!;
    if (!already) {
      const members = this.deps.members();
      const ejected = members.reduce((count, n) => count + (n.state === 'ejected' || n.state === 'probing' ? 1 : 0), 0);
      const allowed = Math.max(1, Math.floor((members.length * o.maxEjectionPercent) / 100));
      if (ejected >= allowed) return;
    }
    const base = Math.min(o.maxEjectionMs, o.baseEjectionMs * 2 ** node.ejections);
    const durationMs = Math.min(o.maxEjectionMs, base * (1 + o.jitter * this.deps.random()));
    node.ejections++;
    node.state = 'ejected';
    node.admission = 0;
    node.ejectedUntil = now + durationMs;
    this.deps.health.clearStreak(node);
    this.clearTimer(node);
    this.timers.set(
      node,
      this.deps.clock.setTimeout(() => this.startProbing(node), durationMs),
    );
    this.deps.events.emit('ejected', {
      balancer: this.deps.balancer,
      node: this.deps.snapshot(node, now),
      reason,
      durationMs,
    });
    this.deps.changed();
  }

  private startProbing(node: UpstreamNode): void {
    this.timers.delete(node);
    if (node.state !== 'ejected' || node.activeFailing) return;
    node.state = 'probing';
    node.admission = ADMIT_PROBE;
    node.probeInFlight = false;
    this.deps.changed();
    this.deps.events.emit('probing', {
      balancer: this.deps.balancer,
      node: this.deps.snapshot(node, this.deps.clock.now()),
    });
  }

  private recover(node: UpstreamNode, now: number): void {
    node.state = 'healthy';
    node.admission = 0;
    node.ejectedUntil = 0;
    this.deps.slowStart.begin(node, now);
    this.deps.health.forgive(node, now);
    this.deps.changed();
    this.deps.events.emit('recovered', { balancer: this.deps.balancer, node: this.deps.snapshot(node, now) });
  }

  private clearTimer(node: UpstreamNode): void {
    const timer = this.timers.get(node);
    if (timer !== undefined) {
      this.deps.clock.clearTimeout(timer);
      this.timers.delete(node);
    }
  }
}
