import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const LIBS = ['load-balancer', 'multi-level-cache', 'task-queue'];

/**
 * How our users consume us: `npm run pack`, then a fresh Nest app outside the repository installs the three tarballs
 * and boots. Offline: the tarballs are unpacked into the app's node_modules as npm would, and every third-party
 * package (peers and the libs' own dependencies) is linked from the workspace's node_modules.
 */
describe('packed tarballs in a fresh app', () => {
  let appDir: string;
  let child: ChildProcess | undefined;

  beforeAll(() => {
    run(process.execPath, ['scripts/pack.mjs'], root);
    appDir = mkdtempSync(join(tmpdir(), 'nest-scale-consumer-'));
    const modules = join(appDir, 'node_modules');
    mkdirSync(join(modules, '@nest-scale'), { recursive: true });
    for (const entry of readdirSync(join(root, 'node_modules'))) {
      if (entry === '@nest-scale' || entry === '.bin' || entry.startsWith('.')) continue;
      symlinkSync(join(root, 'node_modules', entry), join(modules, entry));
    }
    for (const lib of LIBS) {
      const tarball = join(root, 'dist/packages', `nest-scale-${lib}-0.1.0.tgz`);
      const target = join(modules, '@nest-scale', lib);
      mkdirSync(target);
      run('tar', ['-xzf', tarball, '-C', target, '--strip-components=1'], root);
    }
    writeFileSync(
      join(appDir, 'package.json'),
      JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2),
    );
    writeFileSync(
      join(appDir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'nodenext',
          moduleResolution: 'nodenext',
          target: 'ES2023',
          strict: true,
          experimentalDecorators: true,
          emitDecoratorMetadata: true,
          skipLibCheck: false,
          types: ['node'],
          rootDir: 'src',
          outDir: 'dist',
        },
        include: ['src'],
      }),
    );
    mkdirSync(join(appDir, 'src'));
    copyFileSync(join(root, 'test/packaging/consumer-app.ts'), join(appDir, 'src/main.ts'));
  }, 180_000);

  afterAll(() => {
    child?.kill('SIGKILL');
    if (appDir) rmSync(appDir, { recursive: true, force: true });
  });

  it('ships only built code with types and a package.json per lib', () => {
    for (const lib of LIBS) {
      const listed = spawnSync('tar', ['-tzf', join(root, 'dist/packages', `nest-scale-${lib}-0.1.0.tgz`)], {
        encoding: 'utf8',
      }).stdout.split('\n');
      expect(listed).toContain('package/package.json');
      expect(listed).toContain('package/dist/index.js');
      expect(listed).toContain('package/dist/index.d.ts');
      expect(listed.filter((f) => f.endsWith('.ts') && !f.endsWith('.d.ts'))).toEqual([]);
      expect(listed.filter((f) => f.includes('.spec.'))).toEqual([]);
    }
  });

  it('type-checks against the published types and boots a Nest app that uses all three modules', async () => {
    run(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', appDir], appDir);

    child = spawn(process.execPath, [join(appDir, 'dist/main.js')], { cwd: appDir, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`consumer app did not start:\n${output}`)), 20_000);
      const onData = (chunk: Buffer) => {
        output += chunk.toString();
        const match = /LISTENING (\d+)/.exec(output);
        if (match) {
          clearTimeout(timer);
          resolve(Number(match[1]));
        }
      };
      child!.stdout!.on('data', onData);
      child!.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      child!.once('exit', (code) => reject(new Error(`consumer app exited with ${code}:\n${output}`)));
    });

    const response = await fetch(`http://127.0.0.1:${port}/probe`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      greeting: 'hello ada',
      loaderCalls: 1,
      dateRestored: true,
      picked: ['a', 'b'],
      handled: ['ada'],
    });
  }, 60_000);
});

/** Runs a command to completion; throws with its output when it fails. */
function run(command: string, args: string[], cwd: string): void {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited with ${result.status}:\n${result.stdout}${result.stderr}`);
  }
}
