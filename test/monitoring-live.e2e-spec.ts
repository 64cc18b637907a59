import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, type NodeProcess } from './harness/index.js';
import { type GatewayHandle, restartUpstream, startGateway, startUpstreams, stopStack } from './support/demo-stack.js';

const RULES = fileURLToPath(new URL('../monitoring/prometheus/alerts.yml', import.meta.url));
const ALERT = 'NestScaleUpstreamsUnavailable';

interface PrometheusAlert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
}

/**
 * A real Prometheus (Debian's `prometheus` binary) with the shipped rules, scraping the demo gateway every second:
 * the upstream nodes are killed, the alert fires through Prometheus's own evaluation, and resolves once they return.
 */
describe('monitoring: shipped alerts on a live Prometheus', () => {
  let upstreams: { processes: NodeProcess[]; ports: number[]; list: string };
  let gateway: GatewayHandle;
  let prometheus: ChildProcess;
  let prometheusUrl: string;
  let dir: string;

  beforeAll(async () => {
    upstreams = await startUpstreams({ count: 2, separateProcesses: true });
    gateway = await startGateway({ UPSTREAMS: upstreams.list, REDIS_URL: '' });
    dir = mkdtempSync(join(tmpdir(), 'nest-scale-prometheus-'));
    const port = await freePort();
    prometheusUrl = `http://127.0.0.1:${port}`;
    writeFileSync(
      join(dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        `  - { job_name: gateway, static_configs: [{ targets: ['${new URL(gateway.url).host}'] }] }`,
      ].join('\n'),
    );
    prometheus = spawn(
      'prometheus',
      [
        `--config.file=${join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: 'ignore' },
    );
    prometheus.once('error', (error) => {
      throw new Error(`cannot start prometheus (Debian/Ubuntu: apt-get install -y prometheus): ${error.message}`);
    });
    await vi.waitFor(
      async () => {
        const targets = (await (await fetch(`${prometheusUrl}/api/v1/targets`)).json()) as {
          data: { activeTargets: { health: string }[] };
        };
        const health = targets.data.activeTargets[0]?.health;
        if (health !== 'up') throw new Error(`Prometheus has not scraped the gateway yet (target: ${health})`);
      },
      { timeout: 30_000, interval: 250 },
    );
  }, 120_000);

  afterAll(async () => {
    prometheus?.kill('SIGKILL');
    await stopStack([gateway], upstreams);
    rmSync(dir, { recursive: true, force: true });
  });

  async function alerts(): Promise<PrometheusAlert[]> {
    const body = (await (await fetch(`${prometheusUrl}/api/v1/alerts`)).json()) as {
      data: { alerts: PrometheusAlert[] };
    };
    return (body.data.alerts as PrometheusAlert[]).filter((a) => a.labels.alertname === ALERT);
  }

  it(`fires ${ALERT} when every upstream node is down, and resolves when they are back`, async () => {
    expect(await alerts()).toEqual([]);

    await Promise.all(upstreams.processes.map((p) => p.kill()));
    // Health checks eject both nodes within seconds; the rule then holds `for: 20s` before it fires.
    await vi.waitFor(
      async () =>
        expect((await alerts()).map((a) => [a.state, a.labels.balancer, a.labels.severity])).toEqual([
          ['firing', 'catalog', 'critical'],
        ]),
      { timeout: 60_000, interval: 500 },
    );

    upstreams.processes = await Promise.all(upstreams.ports.map((port) => restartUpstream(port)));
    await vi.waitFor(async () => expect(await alerts()).toEqual([]), { timeout: 60_000, interval: 500 });
  }, 150_000);
});
