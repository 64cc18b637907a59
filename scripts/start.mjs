// `npm start`: build what changed (tsc -b is incremental), then run three upstream nodes and the demo gateway.
// Embedded mode by default; with REDIS_URL set, the distributed mode (Redis L2 + BullMQ, shared catalog).
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-b', 'tsconfig.build.json'], {
  cwd: root,
  stdio: 'inherit',
});
if (tsc.status !== 0) process.exit(tsc.status ?? 1);

const upstreamPort = Number(process.env.UPSTREAM_PORT ?? 4001);
const nodes = Number(process.env.LOCAL_UPSTREAMS ?? 3);
const children = [];

function run(label, entry, env) {
  const child = spawn(process.execPath, ['--enable-source-maps', entry], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${label} exited (${signal ?? code}); stopping.`);
      stop(1);
    }
  });
  return child;
}

function waitForLines(child, count) {
  return new Promise((resolve) => {
    let seen = 0;
    child.stdout.on('data', (chunk) => {
      process.stdout.write(chunk);
      seen += chunk
        .toString()
        .split('\n')
        .filter((line) => line.includes('listening on')).length;
      if (seen >= count) resolve();
    });
  });
}

let stopping = false;
function stop(code) {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill('SIGTERM');
  setTimeout(() => process.exit(code), 5000).unref();
  Promise.all(children.map((c) => new Promise((r) => (c.exitCode !== null ? r() : c.once('exit', r))))).then(() =>
    process.exit(code),
  );
}
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => stop(0));

const upstreams = run('upstream nodes', 'apps/upstream/dist/main.js', {
  PORT: String(upstreamPort),
  NODES: String(nodes),
});
await waitForLines(upstreams, nodes);
const list = Array.from({ length: nodes }, (_, i) => `upstream-${upstreamPort + i}=127.0.0.1:${upstreamPort + i}`);
const gateway = run('gateway', 'apps/demo/dist/main.js', { UPSTREAMS: process.env.UPSTREAMS ?? list.join(',') });
gateway.stdout.on('data', (chunk) => process.stdout.write(chunk));
