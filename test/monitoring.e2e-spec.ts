import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const dir = fileURLToPath(new URL('../monitoring/', import.meta.url));
const HOW_TO_GET_PROMTOOL =
  'promtool is not on PATH: install Prometheus (Debian/Ubuntu: `apt-get install -y prometheus`; .ci/run does this).';

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { cwd: `${dir}prometheus`, encoding: 'utf8' });
  if (run.error) throw new Error(`${HOW_TO_GET_PROMTOOL} (${run.error.message})`);
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

interface Rule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

const rules: Rule[] = parse(readFileSync(`${dir}prometheus/alerts.yml`, 'utf8')).groups.flatMap(
  (g: { rules: Rule[] }) => g.rules,
);

/** Metric names in a PromQL expression: label matchers `{…}` and grouping lists `by (…)` are removed first. */
function metricNames(expr: string): string[] {
  const withoutLabels = expr
    .replace(/\{[^}]*\}/g, '')
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '');
  return [...withoutLabels.matchAll(/\b((?:nest_scale|messaging)_[a-z_]+)\b/g)].map((m) =>
    m[1].replace(/_(bucket|count|sum)$/, ''),
  );
}

describe('monitoring: shipped alerts and dashboard', () => {
  it('promtool accepts the rules and their unit tests pass', () => {
    const check = promtool('check', 'rules', 'alerts.yml');
    expect(check.output).toMatch(/SUCCESS: \d+ rules found/);
    expect(check.status).toBe(0);
    const test = promtool('test', 'rules', 'alerts.test.yml');
    expect(test.output).toContain('SUCCESS');
    expect(test.status).toBe(0);
  });

  it('names every alert the issue asks for, each with a severity, summary, description and a firing and a quiet test', () => {
    const names = rules.map((r) => r.alert);
    for (const required of [
      'NestScaleCacheL2Unavailable',
      'NestScaleCacheBusNotLive',
      'NestScaleUpstreamEjected',
      'NestScaleUpstreamsUnavailable',
      'NestScaleQueueBacklogGrowing',
      'NestScaleTasksDead',
      'NestScaleTaskFailureRateHigh',
      'NestScaleCacheHitRatioDrop',
    ]) {
      expect(names).toContain(required);
    }
    const tests: { name: string }[] = parse(readFileSync(`${dir}prometheus/alerts.test.yml`, 'utf8')).tests;
    for (const rule of rules) {
      expect(rule.labels?.severity).toMatch(/^(warning|critical)$/);
      expect(rule.annotations?.summary).toBeTruthy();
      expect(rule.annotations?.description?.length).toBeGreaterThan(60);
      expect(rule.for).toMatch(/^\d+[smh]$/);
      expect(tests.map((t) => t.name)).toEqual(
        expect.arrayContaining([`${rule.alert} fires`, `${rule.alert} stays quiet`]),
      );
    }
  });

  it('uses only metrics that monitoring/README.md documents, in the rules and in the dashboard', () => {
    const readme = readFileSync(`${dir}README.md`, 'utf8');
    const documented = new Set([...readme.matchAll(/^\| `((?:nest_scale|messaging)_[a-z_]+)` \|/gm)].map((m) => m[1]));
    expect(documented.size).toBeGreaterThan(15);
    const dashboard = JSON.parse(readFileSync(`${dir}grafana/nest-scale.json`, 'utf8'));
    const dashboardExprs: string[] = dashboard.panels.flatMap((p: { targets?: { expr: string }[] }) =>
      (p.targets ?? []).map((t) => t.expr),
    );
    expect(dashboardExprs.length).toBeGreaterThan(10);
    const used = [...rules.map((r) => r.expr), ...dashboardExprs].flatMap(metricNames);
    expect(used.filter((name) => !documented.has(name))).toEqual([]);
  });
});
