// The slow-node replay of `npm run bench -- load-balancer`, in simulated time on a ManualClock.
import {
  LoadBalancer,
  ManualClock,
  seededRandom,
  type BuiltinStrategyName,
  type ExecuteOptions,
  type LoadBalancerOptions,
  type RandomSource,
} from '@nest-scale/load-balancer';
import { percentile } from './results.js';

// ---------------------------------------------------------------------------------------------------------------
// Linkerd's slow-node experiment (linkerd.io, 2016-03-16), replayed in simulated time: 11 nodes with a median
// latency of ~167 ms, 1,000 requests/s for 60 s, one node at 2 s for a 30 s window, a 1 s timeout and no retries.
// Every request's client-side latency is recorded (a timeout counts as 1 s and as a failure).
//
// Per-node stalls on top (since 2026-12-01). Service times alone are independent log-normal draws (σ 0.3): a thin
// tail where p99.9 is only 2.5× the median and no balancer or hedge can do much. Real tails come from moments when
// one node stops serving (a stop-the-world GC pause, CPU throttling, a noisy neighbour: Dean & Barroso, "The Tail at
// Scale", CACM 2013), which is what hedging is for. Each node here pauses for STALL_MS = 200 ms, the default
// pause-time goal of HotSpot's G1 collector (MaxGCPauseMillis, set in G1Arguments::initialize; a goal, not a bound:
// DataStax ships Cassandra with 500 ms and tells operators to set it to their expected peak pause, 500-2,000 ms), at
// random times, one every STALL_EVERY_MS = 10 s on average (a Poisson process per node, independent across nodes,
// the same schedule for every strategy). That is 2 % of the node's time, under the 5 % of time in GC that SAP's Java
// monitoring calls normal and Oracle's JVM throughput alert takes as its default threshold. A request in service or
// arriving during a pause makes no progress until the pause ends. Both parameters were fixed before the first run
// with them and not changed after.
// ---------------------------------------------------------------------------------------------------------------
const NODES = 11;
const RATE_PER_MS = 1;
const DURATION_MS = 60_000;
const SLOW_FROM_MS = 15_000;
const SLOW_UNTIL_MS = 45_000;
const SLOW_MS = 2_000;
const TIMEOUT_MS = 1_000;
const MEDIAN_MS = 167;
const SIGMA = 0.3;
const STALL_MS = 200;
const STALL_EVERY_MS = 10_000;
export const STALLS = process.env.LB_REPLAY_STALLS !== 'off';

/** Each node's pauses as [start, end) pairs in time order, overlapping ones merged, up to the last possible answer. */
function stallSchedule(random: RandomSource): number[] {
  const pauses: number[] = [];
  for (let at = -Math.log(1 - random()) * STALL_EVERY_MS; at < DURATION_MS + 2 * TIMEOUT_MS;) {
    const end = at + STALL_MS;
    if (pauses.length > 0 && at <= pauses[pauses.length - 1]) pauses[pauses.length - 1] = end;
    else pauses.push(at, end);
    at += -Math.log(1 - random()) * STALL_EVERY_MS;
  }
  return pauses;
}
/** Every node's pauses for a replay seed (0 is the published run; others check that a result is not one seed's luck). */
const stallsBySeed = new Map<number, number[][]>();
function stallsFor(seed: number): number[][] {
  let stalls = stallsBySeed.get(seed);
  if (stalls === undefined) {
    const random = seededRandom(1303 + seed);
    stalls = Array.from({ length: NODES }, () => (STALLS ? stallSchedule(random) : []));
    stallsBySeed.set(seed, stalls);
  }
  return stalls;
}

/** When a request that needs `serviceMs` of the node's time, started at `start`, is answered. */
function answeredAt(pauses: readonly number[], start: number, serviceMs: number): number {
  let at = start;
  let left = serviceMs;
  for (let k = 0; k < pauses.length; k += 2) {
    const from = pauses[k];
    const until = pauses[k + 1];
    if (until <= at) continue;
    if (from > at) {
      if (at + left <= from) break;
      left -= from - at;
    }
    at = until;
  }
  return at + left;
}

function gaussian(random: RandomSource): number {
  const u = 1 - random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
}

export interface SimulationResult {
  successRate: number;
  p50: number;
  p99: number;
  p999: number;
  slowShare: number;
  /** Tries beyond one per request (hedges), in % of requests. */
  extraPct: number;
}

/** One replay: `seed` 0 is the published one; another seed draws other service times, arrivals and pauses. */
export async function simulate(
  strategy: BuiltinStrategyName,
  options: Partial<LoadBalancerOptions>,
  call: ExecuteOptions = {},
  seed = 0,
): Promise<SimulationResult> {
  const clock = new ManualClock();
  const world = seededRandom(2016 + seed);
  const stalls = stallsFor(seed);
  const lb = new LoadBalancer({
    strategy,
    nodes: Array.from({ length: NODES }, (_, i) => ({ id: `n${i}`, host: '10.1.0.1', port: 9000 + i })),
    clock,
    random: seededRandom(99),
    timeoutMs: TIMEOUT_MS,
    ...options,
  });
  const latencies: number[] = [];
  let failures = 0;
  let toSlow = 0;
  let sent = 0;
  let tries = 0;

  const serve = (nodeId: string, signal: AbortSignal) =>
    new Promise<void>((resolve) => {
      tries++;
      const now = clock.now();
      const slow = nodeId === 'n0' && now >= SLOW_FROM_MS && now < SLOW_UNTIL_MS;
      if (slow) toSlow++;
      const service = slow ? SLOW_MS : MEDIAN_MS * Math.exp(SIGMA * gaussian(world));
      const timer = clock.setTimeout(resolve, answeredAt(stalls[Number(nodeId.slice(1))], now, service) - now);
      signal.addEventListener('abort', () => clock.clearTimeout(timer), { once: true });
    });

  const arrive = () => {
    if (clock.now() >= DURATION_MS) return;
    sent++;
    const start = clock.now();
    lb.execute((node, signal) => serve(node.id, signal), { ...call, key: `k${Math.floor(world() * 1e9)}` }).then(
      () => latencies.push(clock.now() - start),
      () => {
        failures++;
        latencies.push(Math.max(TIMEOUT_MS, clock.now() - start));
      },
    );
    clock.setTimeout(arrive, -Math.log(1 - world()) / RATE_PER_MS);
  };
  clock.setTimeout(arrive, 0);
  // Each event resolves promises; let their continuations run before simulated time moves on.
  while (clock.runNext()) await new Promise((resolve) => setImmediate(resolve));
  lb.close();
  return {
    successRate: (100 * (sent - failures)) / sent,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    p999: percentile(latencies, 99.9),
    slowShare: (100 * toSlow) / sent,
    extraPct: (100 * (tries - sent)) / sent,
  };
}
