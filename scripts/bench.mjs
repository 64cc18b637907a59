// `npm run bench [-- <suite> ...]`: runs bench/<suite>.bench.ts (all suites when none is named), one process each.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const available = readdirSync(`${root}/bench`)
  .filter((f) => f.endsWith('.bench.ts'))
  .map((f) => f.slice(0, -'.bench.ts'.length))
  .toSorted();
const requested = process.argv.slice(2);
const unknown = requested.filter((s) => !available.includes(s));
if (unknown.length > 0) {
  console.error(`Unknown bench suite(s): ${unknown.join(', ')}. Available: ${available.join(', ')}.`);
  process.exit(2);
}
let failed = false;
for (const suite of requested.length > 0 ? requested : available) {
  console.log(`\n=== bench: ${suite} ===`);
  const run = spawnSync(
    process.execPath,
    ['--expose-gc', '--import', '@swc-node/register/esm-register', `bench/${suite}.bench.ts`],
    { cwd: root, stdio: 'inherit', env: { ...process.env, NODE_ENV: 'production' } },
  );
  if (run.status !== 0) failed = true;
}
process.exit(failed ? 1 : 0);
