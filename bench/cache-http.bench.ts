// `npm run bench -- cache-http`: req/s of one JSON route in one Fastify app (its own process), bare, cached by
// nest-scale's CacheInterceptor, and cached by @nestjs/cache-manager's CacheInterceptor — same app, same run,
// interleaved rounds, medians. The bare route is the limit a cache hit can approach. The app's CPU time per request
// is reported too: on a machine shared with other work it tells the routes' costs apart better than req/s.
import autocannon from 'autocannon';
import { freePort } from '../test/harness/free-port.js';
import { NodeProcess } from '../test/harness/node-process.js';
import { median, writeResults } from './support/results.js';

const DURATION_S = Number(process.env.BENCH_DURATION_S ?? 4);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const CONNECTIONS = 32;
const ROUTES = { http_bare_rps: '/bare', http_cache_rps: '/ours', http_cache_rps_nestjs_cache_manager: '/nest' };

const port = await freePort();
const server = NodeProcess.start('cache-http-app', 'bench/support/cache-http-server.ts', {
  PORT: String(port),
  NODE_ENV: 'production',
});
try {
  await server.waitFor(/listening on/, 60_000);
  const url = `http://127.0.0.1:${port}`;
  // Warm every route (JIT, the cache entries), and check that each answers 200 with the same body.
  const bodies = new Set<string>();
  for (const path of Object.values(ROUTES)) {
    const res = await fetch(`${url}${path}`);
    if (res.status !== 200) throw new Error(`${path} answered ${res.status}`);
    bodies.add(await res.text());
    await run(`${url}${path}`, 2);
  }
  if (bodies.size !== 1) throw new Error('the three routes do not answer the same JSON');
  const samples: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  const errors: number[] = [];
  const metrics = Object.keys(ROUTES) as (keyof typeof ROUTES)[];
  for (let round = 0; round < ROUNDS; round++) {
    // Rotate the order so no route always runs first (or last) in a round.
    for (let i = 0; i < metrics.length; i++) {
      const metric = metrics[(i + round) % metrics.length];
      const before = await cpuUs(url);
      const result = await run(`${url}${ROUTES[metric]}`, DURATION_S);
      const used = (await cpuUs(url)) - before;
      (samples[metric] ??= []).push(result.requests.average);
      (cpu[metric] ??= []).push(used / result.requests.total);
      errors.push(result.errors + result.timeouts + result.non2xx);
    }
  }
  const ours = median(samples.http_cache_rps);
  writeResults('cache-http', {
    http_cache_rps: ours,
    http_cache_rps_nestjs_cache_manager: median(samples.http_cache_rps_nestjs_cache_manager),
    http_bare_rps: median(samples.http_bare_rps),
    http_cache_vs_nestjs_cache_manager: ours / median(samples.http_cache_rps_nestjs_cache_manager),
    http_cache_vs_bare: ours / median(samples.http_bare_rps),
    http_bare_cpu_us_per_req: median(cpu.http_bare_rps),
    http_cache_cpu_us_per_req: median(cpu.http_cache_rps),
    http_cache_cpu_us_per_req_nestjs_cache_manager: median(cpu.http_cache_rps_nestjs_cache_manager),
    errors: errors.reduce((a, b) => a + b, 0),
    connections: CONNECTIONS,
    duration_s: DURATION_S,
    rounds: ROUNDS,
  });
} finally {
  await server.stop();
}

async function cpuUs(url: string): Promise<number> {
  return ((await (await fetch(`${url}/cpu`)).json()) as { us: number }).us;
}

function run(url: string, duration: number): Promise<autocannon.Result> {
  return autocannon({ url, connections: CONNECTIONS, duration });
}
