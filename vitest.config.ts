import { availableParallelism } from 'node:os';
import { fileURLToPath } from 'node:url';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (name: string) => fileURLToPath(new URL(`./libs/${name}/src/index.ts`, import.meta.url));

export default defineConfig({
  // Nest relies on emitDecoratorMetadata, which only SWC (not esbuild/oxc) emits.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@nest-scale/load-balancer': lib('load-balancer'),
      '@nest-scale/multi-level-cache': lib('multi-level-cache'),
      '@nest-scale/task-queue': lib('task-queue'),
    },
  },
  test: {
    globals: true,
    globalSetup: ['./test/harness/global-setup.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts'],
          // Vitest's default (cores − 1) is one worker on the 2-core CI machines. The unit files mostly wait on Redis
          // and child processes, so two workers there took 157 s where one took 275 s (2026-12-01).
          maxWorkers: Math.max(2, availableParallelism() - 1),
        },
      },
      {
        extends: true,
        test: { name: 'e2e', include: ['test/**/*.e2e-spec.ts'], fileParallelism: false },
      },
    ],
  },
});
