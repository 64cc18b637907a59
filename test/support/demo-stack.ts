import { consecutiveFreePorts, freePort, NodeProcess } from '../harness/index.js';

export interface GatewayHandle {
  url: string;
  process: NodeProcess;
}

/** Starts `count` upstream nodes in one process (they share one in-memory catalog) or one per process. */
export async function startUpstreams(options: {
  count: number;
  redisUrl?: string;
  prefix?: string;
  separateProcesses?: boolean;
}): Promise<{ processes: NodeProcess[]; ports: number[]; list: string }> {
  const ports: number[] = [];
  const processes: NodeProcess[] = [];
  const env = { REDIS_URL: options.redisUrl, UPSTREAM_PREFIX: options.prefix };
  if (options.separateProcesses) {
    for (let i = 0; i < options.count; i++) {
      const port = await freePort();
      ports.push(port);
      const node = NodeProcess.start(`upstream-${port}`, 'apps/upstream/src/main.ts', { ...env, PORT: String(port) });
      processes.push(node);
    }
    await Promise.all(processes.map((p) => p.waitFor(/listening on/, 60_000)));
  } else {
    const base = await consecutiveFreePorts(options.count);
    for (let i = 0; i < options.count; i++) ports.push(base + i);
    const node = NodeProcess.start('upstreams', 'apps/upstream/src/main.ts', {
      ...env,
      PORT: String(base),
      NODES: String(options.count),
    });
    processes.push(node);
    await node.waitFor(new RegExp(`listening on http://127.0.0.1:${base + options.count - 1}`), 60_000);
  }
  return { processes, ports, list: ports.map((p) => `upstream-${p}=127.0.0.1:${p}`).join(',') };
}

/** Restarts one upstream node on the port it had (separate-process mode). */
export async function restartUpstream(port: number, redisUrl?: string, prefix?: string): Promise<NodeProcess> {
  const node = NodeProcess.start(`upstream-${port}`, 'apps/upstream/src/main.ts', {
    REDIS_URL: redisUrl,
    UPSTREAM_PREFIX: prefix,
    PORT: String(port),
  });
  await node.waitFor(/listening on/, 60_000);
  return node;
}

export async function startGateway(env: Record<string, string | undefined>): Promise<GatewayHandle> {
  const port = await freePort();
  const gateway = NodeProcess.start(`gateway-${port}`, 'apps/demo/src/main.ts', { PORT: String(port), ...env });
  await gateway.waitFor(/gateway listening on/, 60_000);
  return { url: `http://127.0.0.1:${port}`, process: gateway };
}

/** Gateways A and B with one environment: with a shared Redis and KEY_PREFIX they act as one system. */
export function startGatewayPair(env: Record<string, string | undefined>): Promise<[GatewayHandle, GatewayHandle]> {
  return Promise.all([startGateway({ ...env, INSTANCE_ID: 'A' }), startGateway({ ...env, INSTANCE_ID: 'B' })]);
}

/** Stops whatever a suite managed to start, gateways first so they drain before their upstreams go. */
export async function stopStack(
  gateways: (GatewayHandle | undefined)[],
  upstreams: { processes: NodeProcess[] } | undefined,
): Promise<void> {
  await Promise.all(gateways.map((g) => g?.process.stop()));
  await Promise.all(upstreams?.processes.map((p) => p.stop()) ?? []);
}

export async function http(
  base: string,
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; raw?: string; timeoutMs?: number } = {},
): Promise<{ status: number; body: any; text: string; headers: Headers }> {
  const hasBody = options.body !== undefined || options.raw !== undefined;
  const timeoutMs = options.timeoutMs ?? 15_000;
  const res = await fetch(`${base}${path}`, {
    method,
    // A hang fails as such, naming the request, instead of as a test timeout.
    signal: AbortSignal.timeout(timeoutMs),
    headers: { ...(hasBody ? { 'content-type': 'application/json' } : {}), ...options.headers },
    body: options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body)),
  }).catch((error: Error) => {
    throw new Error(
      `${method} ${base}${path}: ${error.name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : error.message}`,
    );
  });
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text, headers: res.headers };
}
