// `npm run pack`: builds each lib and writes installable tarballs to dist/packages/.
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const libs = readdirSync(`${root}/libs`).toSorted();
const out = `${root}/dist/packages`;

function run(cmd, args) {
  const result = spawnSync(cmd, args, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
  if (result.status !== 0) {
    console.error(`${cmd} ${args.join(' ')} failed`);
    process.exit(result.status ?? 1);
  }
  return result.stdout;
}

rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });
run(process.execPath, ['node_modules/typescript/bin/tsc', '-b', ...libs.map((l) => `libs/${l}/tsconfig.lib.json`)]);
for (const lib of libs) {
  const file = run('npm', ['pack', '--silent', '--workspace', `libs/${lib}`, '--pack-destination', out]).trim();
  console.log(`dist/packages/${file}`);
}
