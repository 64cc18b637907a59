// `npm run bench -- demo`: autocannon against the demo gateway (embedded mode, three upstream nodes), cached vs not.
import autocannon from 'autocannon';
import { consecutiveFreePorts, freePort } from '../test/harness/free-port.js';
import { NodeProcess } from '../test/harness/node-process.js';
import { writeResults } from './support/results.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 8);
const CONNECTIONS = 32;

const base = await consecutiveFreePorts(3);
const upstreams = NodeProcess.start('upstreams', 'apps/upstream/src/main.ts', { PORT: String(base), NODES: '3' });
const port = await freePort();
let gateway: NodeProcess | undefined;
try {
  await upstreams.waitFor(new RegExp(`listening on http://127.0.0.1:${base + 2}`), 60_000);
  gateway = NodeProcess.start('gateway', 'apps/demo/src/main.ts', {
    PORT: String(port),
    REDIS_URL: '',
    NODE_ENV: 'production',
    UPSTREAMS: [0, 1, 2].map((i) => `127.0.0.1:${base + i}`).join(','),
  });
  await gateway.waitFor(/gateway listening on/, 60_000);
  const url = `http://127.0.0.1:${port}`;

  // Warm both paths (JIT, connection pools, the cache entry).
  await run(`${url}/products/7`, {}, 2);
  await run(`${url}/products/8`, { 'cache-control': 'no-cache' }, 2);

  const cached = await run(`${url}/products/7`, {}, DURATION_S);
  const uncached = await run(`${url}/products/8`, { 'cache-control': 'no-cache' }, DURATION_S);
  writeResults('demo', {
    rps_cached: cached.requests.average,
    p99_ms_cached: cached.latency.p99,
    rps_uncached: uncached.requests.average,
    p99_ms_uncached: uncached.latency.p99,
    errors: cached.errors + cached.timeouts + cached.non2xx + uncached.errors + uncached.timeouts + uncached.non2xx,
    connections: CONNECTIONS,
    duration_s: DURATION_S,
  });
} finally {
  await gateway?.stop();
  await upstreams.stop();
}

function run(url: string, headers: Record<string, string>, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, headers, connections: CONNECTIONS, duration });
}
