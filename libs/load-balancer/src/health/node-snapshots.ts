import type { NodeSnapshot } from '../interfaces/node-snapshot.interface.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import type { SlowStart } from '../selection/slow-start.js';
import type { NodeHealthModel } from './node-health-model.js';

/** A serializable copy of one node's state as of `now`. */
export function snapshotNode(
  node: UpstreamNode,
  now: number,
  health: NodeHealthModel,
  slowStart: SlowStart,
): NodeSnapshot {
  const snapshot: NodeSnapshot = {
    id: node.id,
    host: node.host,
    port: node.port,
    weight: node.weight,
    state: node.state,
    healthScore: node.state === 'draining' ? 0 : health.score(node, now),
    inFlight: node.inFlight,
    latencyMs: health.latencyMs(node, now),
    errorRate: node.errorRate,
    consecutiveFailures: node.consecutiveFailures,
    consecutiveLosses: node.consecutiveLosses,
    ejections: node.ejections,
    ejectedForMs:
      node.state === 'ejected' && Number.isFinite(node.ejectedUntil) ? Math.max(0, node.ejectedUntil - now) : 0,
    slowStartFactor: slowStart.factor(node, now),
    utilization: health.utilization(node, now),
    requests: node.requests,
    failures: node.failures,
  };
  if (node.zone !== undefined) snapshot.zone = node.zone;
  if (node.metadata !== undefined) snapshot.metadata = node.metadata;
  return snapshot;
}
