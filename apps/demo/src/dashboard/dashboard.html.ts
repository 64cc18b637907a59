/** The live dashboard: one static page that polls GET /dashboard/state every second. */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>nest-scale · catalog gateway</title>
<link rel="stylesheet" href="dashboard/assets/uplot.min.css">
<script src="dashboard/assets/uplot.iife.min.js"></script>
<style>
  :root { font: 14px/1.4 system-ui, sans-serif; color: #1d2433; background: #f4f6fa; }
  body { margin: 0 auto; max-width: 1100px; padding: 24px; }
  h1 { font-size: 20px; margin: 0 0 4px; }
  .sub { color: #5b667a; margin-bottom: 20px; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(160px, 1fr)); gap: 12px; margin-bottom: 20px; }
  .card { background: #fff; border-radius: 8px; padding: 12px 14px; box-shadow: 0 1px 2px #0001; }
  .card .label { color: #5b667a; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
  .card .value { font-size: 24px; font-weight: 600; }
  table { width: 100%; border-collapse: collapse; background: #fff; border-radius: 8px; overflow: hidden; box-shadow: 0 1px 2px #0001; }
  th, td { padding: 8px 10px; text-align: left; border-bottom: 1px solid #e8ebf1; }
  th { background: #eef1f6; font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: #5b667a; }
  .state { display: inline-block; padding: 1px 8px; border-radius: 10px; font-weight: 600; font-size: 12px; }
  .state.healthy { background: #dcf5e3; color: #136c2e; }
  .state.ejected { background: #fde0e0; color: #9b1c1c; }
  .state.probing { background: #fff2cc; color: #7a5a00; }
  .state.draining { background: #e4e7ff; color: #2f3a9e; }
  .bar { width: 120px; height: 8px; background: #e8ebf1; border-radius: 4px; display: inline-block; vertical-align: middle; }
  .bar > span { display: block; height: 100%; border-radius: 4px; background: #2e9d5b; }
  .err { color: #9b1c1c; }
  h2 { font-size: 15px; margin: 20px 0 8px; }
  .charts { display: grid; grid-template-columns: repeat(2, 1fr); gap: 12px; }
  .chart { background: #fff; border-radius: 8px; padding: 8px; box-shadow: 0 1px 2px #0001; min-height: 220px; }
</style>
</head>
<body>
<h1>Catalog gateway</h1>
<div class="sub" id="meta">connecting…</div>

<h2>Cache</h2>
<div class="grid">
  <div class="card"><div class="label">L1 hit ratio</div><div class="value" id="l1-ratio">–</div></div>
  <div class="card"><div class="label">L2 hit ratio</div><div class="value" id="l2-ratio">–</div></div>
  <div class="card"><div class="label">Misses (loader calls)</div><div class="value" id="misses">–</div></div>
  <div class="card"><div class="label">L2 (Redis)</div><div class="value" id="l2-state">–</div></div>
</div>

<h2>Task queue</h2>
<div class="grid">
  <div class="card"><div class="label">Waiting</div><div class="value" id="q-waiting">–</div></div>
  <div class="card"><div class="label">Active</div><div class="value" id="q-active">–</div></div>
  <div class="card"><div class="label">Delayed</div><div class="value" id="q-delayed">–</div></div>
  <div class="card"><div class="label">Dead (failed)</div><div class="value" id="q-failed">–</div></div>
  <div class="card"><div class="label">Completed</div><div class="value" id="q-completed">–</div></div>
</div>

<h2>Last five minutes (this instance)</h2>
<div class="charts">
  <div class="chart" id="chart-hit-ratio" data-testid="chart"></div>
  <div class="chart" id="chart-rps" data-testid="chart"></div>
  <div class="chart" id="chart-latency" data-testid="chart"></div>
  <div class="chart" id="chart-queue" data-testid="chart"></div>
</div>

<h2>Upstream nodes</h2>
<table>
  <thead><tr><th>Node</th><th>Address</th><th>State</th><th>Health</th><th>In flight</th><th>Latency</th><th>Errors</th><th>Ejections</th></tr></thead>
  <tbody id="nodes"></tbody>
</table>

<script>
const pct = (x) => (Number.isFinite(x) ? (100 * x).toFixed(1) + ' %' : '–');
const text = (id, value) => { document.getElementById(id).textContent = value; };
function cell(value, className) {
  const td = document.createElement('td');
  if (className) td.className = className;
  td.textContent = value;
  return td;
}
function render(s) {
  text('meta', 'instance ' + s.instance + ' · ' + s.mode + ' mode · updated ' + new Date(s.at).toLocaleTimeString());
  text('l1-ratio', pct(s.cache.l1HitRatio));
  text('l2-ratio', pct(s.cache.l2HitRatio));
  text('misses', s.cache.misses + ' (' + s.cache.loaderCalls + ')');
  text('l2-state', s.cache.l2);
  for (const k of ['waiting', 'active', 'delayed', 'failed', 'completed']) text('q-' + k, s.queue[k]);
  const rows = s.nodes.map((n) => {
    const tr = document.createElement('tr');
    tr.dataset.testid = 'node-row';
    tr.dataset.node = n.id;
    tr.append(cell(n.id), cell(n.address));
    const state = document.createElement('td');
    const badge = document.createElement('span');
    badge.className = 'state ' + n.state;
    badge.textContent = n.state;
    state.append(badge);
    const health = document.createElement('td');
    const bar = document.createElement('span');
    bar.className = 'bar';
    const fill = document.createElement('span');
    fill.style.width = Math.round(100 * n.healthScore) + '%';
    fill.style.background = n.healthScore > 0.7 ? '#2e9d5b' : n.healthScore > 0.3 ? '#d9a300' : '#c0392b';
    bar.append(fill);
    health.append(bar, ' ' + n.healthScore.toFixed(2));
    tr.append(state, health, cell(n.inFlight), cell(n.latencyMs.toFixed(1) + ' ms'),
      cell(pct(n.errorRate), n.errorRate > 0.05 ? 'err' : ''), cell(n.ejections));
    return tr;
  });
  document.getElementById('nodes').replaceChildren(...rows);
}
async function poll() {
  try {
    const res = await fetch('dashboard/state', { cache: 'no-store' });
    if (res.ok) render(await res.json());
    else text('meta', 'state unavailable: HTTP ' + res.status);
  } catch (e) {
    text('meta', 'gateway unreachable: ' + e.message);
  }
  setTimeout(poll, 1000);
}
poll();

const COLORS = ['#2f6fdb', '#2e9d5b', '#d9a300', '#c0392b', '#7b4fc9', '#1a9aa0'];
const charts = {};
function chart(id, title, labels, columns, yUnit) {
  const el = document.getElementById(id);
  const key = id + ':' + labels.join(',');
  if (!charts[key]) {
    el.replaceChildren();
    charts[key] = new uPlot({
      title, width: el.clientWidth - 16, height: 200,
      scales: { x: { time: true } },
      axes: [{}, { values: (u, ticks) => ticks.map((v) => v + yUnit) }],
      series: [{}, ...labels.map((label, i) => ({ label, stroke: COLORS[i % COLORS.length], width: 2, spanGaps: false }))],
    }, columns, el);
  } else {
    charts[key].setData(columns);
  }
}
async function pollHistory() {
  try {
    const res = await fetch('dashboard/history', { cache: 'no-store' });
    if (res.ok) {
      const h = await res.json();
      chart('chart-hit-ratio', 'Cache hit ratio', ['hit ratio'], [h.t, h.hitRatio.map((v) => (v === null ? null : 100 * v))], ' %');
      chart('chart-rps', 'Requests per second', ['requests/s'], [h.t, h.requestsPerSecond], '');
      const nodes = Object.keys(h.nodeP99Ms).sort();
      chart('chart-latency', 'Upstream p99 latency per node', nodes.length ? nodes : ['(no calls yet)'],
        [h.t, ...(nodes.length ? nodes.map((n) => h.nodeP99Ms[n]) : [h.t.map(() => null)])], ' ms');
      chart('chart-queue', 'Tasks waiting', ['waiting'], [h.t, h.queueWaiting], '');
    }
  } catch (e) {
    // The state poll reports an unreachable gateway.
  }
  setTimeout(pollHistory, 2000);
}
pollHistory();
</script>
</body>
</html>`;
