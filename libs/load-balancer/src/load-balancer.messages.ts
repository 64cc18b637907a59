export const NO_AVAILABLE_NODE = (balancer: string, members: number) =>
  members === 0
    ? `Load balancer "${balancer}" has no nodes. Add nodes in its options, with addNode(), or through a discovery provider.`
    : `Load balancer "${balancer}" has ${members} node(s) but none can take a request (all ejected, probing or draining). ` +
      'Check the upstream health, or raise panicThreshold so the balancer falls back to every node.';

/** The shared shape of every bad option or argument: `<path>` must be <expectation>; got <value>. <how to fix> */
export const INVALID_VALUE = (path: string, expectation: string, got: string, fix: string) =>
  `\`${path}\` must be ${expectation}; got ${got}. ${fix}`;

export const UNKNOWN_KEY = (
  path: string,
  key: string,
  suggestion: string | undefined,
  known: readonly string[],
  fix: string,
) =>
  `\`${path}\` has no key "${key}"` +
  (suggestion === undefined ? '.' : `: did you mean "${suggestion}"?`) +
  ` Known keys: ${known.join(', ')}. A misspelled key would otherwise be ignored. ${fix}`;

export const FIX_OPTION = (balancer: string) =>
  `Fix it in the options of load balancer "${balancer}", or leave it out for its default.`;

export const FIX_NODE = (balancer: string, node: string) =>
  `Fix node ${node} in the "nodes" option of load balancer "${balancer}".`;

export const FIX_ADD_NODE = (balancer: string, node: string) =>
  `Fix the config of node ${node} passed to addNode() on load balancer "${balancer}".`;

export const FIX_DISCOVERED_NODE = (balancer: string, node: string) =>
  `Node ${node} from the discovery provider of load balancer "${balancer}" is skipped; fix what the provider returns.`;

export const FIX_DNS_DISCOVERY = 'Fix the options passed to new DnsDiscovery().';

export const FIX_CALL = (balancer: string, call: string) =>
  `Fix the argument of ${call} on load balancer "${balancer}".`;

export const DISCOVERY_ENTRY_SKIPPED = (balancer: string, problem: string) =>
  `Discovery for load balancer "${balancer}" returned an invalid node: ${problem}`;

export const DISCOVERY_NOT_A_LIST = (balancer: string, got: string, kept: number) =>
  `Discovery for load balancer "${balancer}" returned ${got} instead of an array of nodes; keeping ${kept} node(s). ` +
  'Make resolve() return NodeConfig[].';

export const DISCOVERY_FAILED = (balancer: string, kept: number, error: string) =>
  `Discovery for load balancer "${balancer}" failed, keeping ${kept} node(s): ${error}`;

export const BACKGROUND_TASK_FAILED = (balancer: string, task: string, error: string) =>
  `A ${task} round of load balancer "${balancer}" failed: ${error}. The next round runs on schedule.`;

export const DUPLICATE_NODE = (balancer: string, id: string) =>
  `Duplicate node id "${id}" in load balancer "${balancer}". Give each node a unique id (default is host:port).`;

export const UNKNOWN_OPTION = (
  balancer: string,
  key: string,
  suggestion: string | undefined,
  known: readonly string[],
) =>
  `Load balancer "${balancer}" has no option "${key}"` +
  (suggestion === undefined ? '.' : `: did you mean "${suggestion}"?`) +
  ` Known options: ${known.join(', ')}. Fix its name or remove it (a misspelled option would otherwise be ignored).`;

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

export const DEADLINE_EXCEEDED = (balancer: string, deadlineMs: number, tries: number) =>
  `A call through load balancer "${balancer}" missed its ${deadlineMs} ms deadline after ${tries} tr${tries === 1 ? 'y' : 'ies'}. ` +
  'Raise "deadlineMs" (execute/request options, or the balancer or client default) if the upstream needs more time.';

export const HEDGE_LOST = (balancer: string, node: string) =>
  `Another try of this call through load balancer "${balancer}" answered first; the try on node "${node}" is no longer needed.`;

export const LISTENER_THREW = (event: string, error: string) => `A "${event}" listener threw: ${error}`;

export const CUSTOM_STRATEGY_NEEDS_INSTANCE = (balancer: string) =>
  `Load balancer "${balancer}" uses a custom strategy class; pass an instance to the constructor or register it through LoadBalancerModule so DI can build it.`;

export const RESPONSE_TOO_LARGE = (node: string, limit: number, status: number, method: string, path: string) =>
  `Node "${node}" answered ${method} ${path} (HTTP ${status}) with a body over ${limit} bytes, the "maxResponseBytes" limit. ` +
  'Raise "maxResponseBytes" for this request or the client, or read the body incrementally with client.stream().';
