// `npm run bench -- cache-read-path`: CPU cost of each layer of the multi-level-cache L2 read, with the socket taken
// out (an in-memory stand-in answers GET at once), so the figures are the JavaScript work per hit, not the network.
// Keyv itself is not measured here: behind this stand-in its get slowed down as the run went on, which says more
// about the stand-in than about Keyv; `npm run bench -- cache` compares the real path with a raw GET instead.
import { circuitBreaker, ConsecutiveBreaker, handleAll } from 'cockatiel';
import { decodeValue, encodeValue } from '../libs/multi-level-cache/src/codec/value-codec.js';
import { median, writeResults } from './support/results.js';

const VALUE = { id: 1, name: 'Ada Lovelace', email: 'ada@example.com', roles: ['admin', 'author'], active: true };
const record = `{"expires":${Date.now() + 600_000},"value":{"v":${encodeValue(VALUE)},"f":${Date.now() + 600_000}}}`;
const connection = { isOpen: true, get: (_key: string) => Promise.resolve(record), on: () => connection };

const breaker = circuitBreaker(handleAll, { halfOpenAfter: 1_000, breaker: new ConsecutiveBreaker(5) });

function perCallTimer<T>(work: PromiseLike<T>, ms: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('budget')), ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e: unknown) => {
        clearTimeout(timer);
        reject(e as Error);
      },
    );
  });
}

const cases: Record<string, () => Promise<unknown>> = {
  read_cpu_us_get_only: () => connection.get('n::k'),
  read_cpu_us_decode: async () => decodeValue(await connection.get('n::k')),
  read_cpu_us_breaker: () => breaker.execute(() => connection.get('n::k')),
  read_cpu_us_budget_timer: () => perCallTimer(connection.get('n::k'), 50),
  read_cpu_us_whole_read: () => breaker.execute(() => perCallTimer(connection.get('n::k'), 50)).then(decodeValue),
};

const N = 50_000;
const rounds: Record<string, number[]> = {};
for (let round = 0; round < 7; round++) {
  for (const [metric, fn] of Object.entries(cases)) {
    for (let i = 0; i < 5_000; i++) await fn();
    const before = process.cpuUsage();
    for (let i = 0; i < N; i++) await fn();
    const used = process.cpuUsage(before);
    (rounds[metric] ??= []).push((used.user + used.system) / N);
  }
}
writeResults(
  'cache-read-path',
  Object.fromEntries(Object.entries(rounds).map(([metric, values]) => [metric, median(values)])),
);
