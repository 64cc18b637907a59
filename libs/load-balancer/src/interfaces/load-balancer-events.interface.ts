import type { NodeSnapshot } from './node-snapshot.interface.js';

/** Why a node left rotation. @publicApi */
export type EjectionReason = 'consecutive-failures' | 'error-rate' | 'probe-failed' | 'active-health-check';

/** Events a balancer emits; listen with `balancer.on(event, listener)`. @publicApi */
export interface LoadBalancerEvents {
  ejected: { balancer: string; node: NodeSnapshot; reason: EjectionReason; durationMs: number };
  probing: { balancer: string; node: NodeSnapshot };
  recovered: { balancer: string; node: NodeSnapshot };
  panic: { balancer: string; active: boolean; healthy: number; total: number };
  'node-added': { balancer: string; node: NodeSnapshot };
  'node-removed': { balancer: string; node: NodeSnapshot };
}
