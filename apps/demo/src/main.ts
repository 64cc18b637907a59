import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import { BULL_BOARD_PATH, mountBullBoard } from './admin/bull-board.js';
import { AppModule } from './app.module.js';
import { DemoConfig } from './config/demo-config.js';

// A catalog gateway takes small JSON bodies; anything larger is refused with 413 before it is parsed.
const BODY_LIMIT_BYTES = 16 * 1024;

const config = DemoConfig.fromEnv();
const app = await NestFactory.create<NestFastifyApplication>(
  AppModule.forRoot(config),
  new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES }),
  { logger: process.env.NODE_ENV === 'test' ? ['error', 'warn'] : undefined },
);
app.enableShutdownHooks();
const bullBoard = await mountBullBoard(app, config.adminToken);
await app.listen(config.port, config.host);

const url = `http://${config.host}:${(app.getHttpServer().address() as { port: number }).port}`;
const lines = [
  `gateway listening on ${url} (${config.mode} mode, instance ${config.instanceId})`,
  `  products:  GET/PUT ${url}/products/42`,
  `  orders:    POST ${url}/orders, GET ${url}/orders/:id`,
  `  dashboard: ${url}/dashboard`,
  `  health:    ${url}/health    metrics: ${url}/metrics`,
  `  upstreams: ${config.upstreams.map((u) => `${u.host}:${u.port}`).join(', ')}`,
  bullBoard ? `  bull-board: ${url}${BULL_BOARD_PATH} (admin token)` : '',
  config.adminTokenGenerated
    ? `  admin token (generated; set ADMIN_TOKEN to choose one): ${config.adminToken}`
    : '  admin token: from ADMIN_TOKEN',
];
new Logger('Gateway').log(`${config.mode} mode ready`);
console.log(lines.filter(Boolean).join('\n'));
