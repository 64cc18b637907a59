// `npm run test:props [-- --runs N] [--seed S] [filter ...]`: runs the property and model-based specs
// (`*.props.spec.ts`) with more runs or another seed than `npm test` uses.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const env = { ...process.env };
const filters = [];
const args = process.argv.slice(2);
for (let i = 0; i < args.length; i++) {
  const arg = args[i];
  if (arg === '--runs' || arg === '--seed') {
    const value = Number(args[++i]);
    if (!Number.isInteger(value) || (arg === '--runs' && value < 1)) {
      console.error(`${arg} needs an integer${arg === '--runs' ? ' >= 1' : ''}, got ${JSON.stringify(args[i])}.`);
      process.exit(2);
    }
    env[arg === '--runs' ? 'FC_NUM_RUNS' : 'FC_SEED'] = String(value);
  } else {
    filters.push(arg);
  }
}
const run = spawnSync(
  process.execPath,
  [`${root}/node_modules/vitest/vitest.mjs`, 'run', '--project', 'unit', ...(filters.length > 0 ? filters : ['.props.spec'])],
  { cwd: root, stdio: 'inherit', env },
);
process.exit(run.status ?? 1);
