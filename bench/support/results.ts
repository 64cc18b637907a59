import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Writes bench/results/<suite>.json as a flat `{ metric: number }` object and prints it as a table. */
export function writeResults(suite: string, metrics: Record<string, number>): void {
  const dir = fileURLToPath(new URL('../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const rounded = Object.fromEntries(Object.entries(metrics).map(([k, v]) => [k, round(v)]));
  writeFileSync(`${dir}${suite}.json`, `${JSON.stringify(rounded, null, 2)}\n`);
  console.table(Object.entries(rounded).map(([metric, value]) => ({ metric, value })));
  console.log(`wrote bench/results/${suite}.json`);
}

function round(v: number): number {
  if (!Number.isFinite(v)) return v;
  return Math.abs(v) >= 100 ? Math.round(v * 10) / 10 : Math.round(v * 1000) / 1000;
}

/** Median nanoseconds per call of a synchronous or async function over `samples` batches of `batch` calls. */
export async function medianNs(
  fn: () => unknown,
  { samples = 31, batch = 10_000, warmup = 50_000 } = {},
): Promise<number> {
  const isAsync = fn() instanceof Promise;
  if (isAsync) for (let i = 0; i < warmup; i++) await fn();
  else for (let i = 0; i < warmup; i++) fn();
  const perCall: number[] = [];
  for (let s = 0; s < samples; s++) {
    const start = process.hrtime.bigint();
    if (isAsync) for (let i = 0; i < batch; i++) await fn();
    else for (let i = 0; i < batch; i++) fn();
    perCall.push(Number(process.hrtime.bigint() - start) / batch);
  }
  return median(perCall);
}

export function median(values: number[]): number {
  const sorted = values.toSorted((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = values.toSorted((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
