/** One sample of a Prometheus text exposition: `name{labels} value`. */
export interface PrometheusSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of `text` named `name`, in order (comments and other names skipped). */
export function samples(text: string, name: string): PrometheusSample[] {
  const found: PrometheusSample[] = [];
  for (const line of text.split('\n')) {
    const match = SAMPLE_LINE.exec(line);
    if (match?.[1] !== name) continue;
    const labels = Object.fromEntries([...(match[2] ?? '').matchAll(LABEL)].map((l) => [l[1], l[2]]));
    found.push({ name, labels, value: Number(match[3]) });
  }
  return found;
}

/**
 * The sum of the samples named `name` whose labels include `labels` (other labels, such as the exporter's
 * `otel_scope_name`, are ignored); throws, listing what is there, when no sample matches.
 */
export function sampleSum(text: string, name: string, labels: Record<string, string> = {}): number {
  const all = samples(text, name);
  const matching = all.filter((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (matching.length === 0) {
    throw new Error(
      `no sample ${name}${JSON.stringify(labels)} in the scrape (${all.length} of that name: ${JSON.stringify(all.map((s) => s.labels))})`,
    );
  }
  return matching.reduce((sum, s) => sum + s.value, 0);
}
