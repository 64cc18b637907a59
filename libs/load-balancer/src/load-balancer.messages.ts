export const NO_AVAILABLE_NODE = (balancer: string, members: number) =>
  members === 0
    ? `Load balancer "${balancer}" has no nodes. Add nodes in its options, with addNode(), or through a discovery provider.`
    : `Load balancer "${balancer}" has ${members} node(s) but none can take a request (all ejected, probing or draining). ` +
      'Check the upstream health, or raise panicThreshold so the balancer falls back to every node.';

export const INVALID_OPTION = (balancer: string, option: string, problem: string) =>
  `Invalid load balancer option "${option}" for balancer "${balancer}": ${problem}. Check your configuration.`;

export const INVALID_NODE = (balancer: string, node: string, problem: string) =>
  `Invalid node ${node} for load balancer "${balancer}": ${problem}. Check the "nodes" option or the addNode() call.`;

export const DUPLICATE_NODE = (balancer: string, id: string) =>
  `Duplicate node id "${id}" in load balancer "${balancer}". Give each node a unique id (default is host:port).`;

export const UNKNOWN_STRATEGY = (balancer: string, strategy: unknown) =>
  `Unknown strategy ${JSON.stringify(String(strategy))} for load balancer "${balancer}". Use one of round-robin, ` +
  'weighted-round-robin, least-connections, weighted-random, p2c-ewma, consistent-hash, or a class extending LoadBalancingStrategy.';

export const EMPTY_WITHOUT_DISCOVERY = (balancer: string) =>
  `Load balancer "${balancer}" was given an empty node list and no discovery provider. ` +
  'List nodes in "nodes", set "discovery", or pass "nodes: []" explicitly only if you call addNode() at run time.';

export const TRY_TIMED_OUT = (node: string, timeoutMs: number) =>
  `Request to node "${node}" timed out after ${timeoutMs} ms. Raise "timeoutMs" if the upstream is legitimately slow.`;

export const UPSTREAM_STATUS = (node: string, status: number, method: string, path: string) =>
  `Node "${node}" answered ${method} ${path} with HTTP ${status}.`;
