// One instance of the migrated sample/26-queues app, started by test/task-queue-migration.e2e-spec.ts.
// ROLE=api (HTTP, no workers) | worker (workers, no HTTP) | both; DRIVER=bullmq|memory; REDIS_URL; PREFIX.
import { NestFactory } from '@nestjs/core';
import { audioAppModule, type AudioRole } from './audio.app.js';

const role = (process.env.ROLE ?? 'both') as AudioRole;
const app = await NestFactory.create(
  audioAppModule({
    role,
    driver: process.env.DRIVER === 'memory' ? 'memory' : 'bullmq',
    redisUrl: process.env.REDIS_URL,
    prefix: process.env.PREFIX,
  }),
  { logger: ['error', 'warn'] },
);
app.enableShutdownHooks();
if (role === 'worker') {
  await app.init();
  process.stdout.write('READY\n');
} else {
  await app.listen(0, '127.0.0.1');
  process.stdout.write(`LISTENING ${await app.getUrl()}\n`);
}
