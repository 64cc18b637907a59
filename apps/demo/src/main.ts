import 'reflect-metadata';
import { Logger } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { lookup } from 'node:dns/promises';
import type { NestFastifyApplication } from '@nestjs/platform-fastify';
import { BULL_BOARD_PATH, mountBullBoard } from './admin/bull-board.js';
import { AppModule } from './app.module.js';
import { DemoConfig, DemoConfigError } from './config/demo-config.js';
import { GatewayRedis } from './config/gateway-redis.js';
import { applyConnectionLimits, countRequests, createGatewayAdapter, installBodyParsers } from './http/gateway-http.js';
import { TrafficHistory } from './history/traffic-history.js';
import { installSessions } from './sessions/sessions.js';
import { DemoTelemetry } from './telemetry/demo-telemetry.js';

/** Exit code for a configuration the gateway cannot start with (EX_CONFIG). */
const EXIT_CONFIG = 78;

let config: DemoConfig;
let telemetry: DemoTelemetry;
try {
  config = DemoConfig.fromEnv();
  await lookup(config.host).catch((error: Error) => {
    throw new DemoConfigError(
      `HOST=${config.host} cannot be resolved (${error.message}): use an address of this machine.`,
    );
  });
  // Before the app: the libraries take their meters when their providers are constructed.
  telemetry = DemoTelemetry.start(config.instanceId);
} catch (error) {
  if (!(error instanceof DemoConfigError)) throw error;
  console.error(`gateway not started: ${error.message}`);
  process.exit(EXIT_CONFIG);
}

const app = await NestFactory.create<NestFastifyApplication>(
  AppModule.forRoot(config, telemetry),
  createGatewayAdapter(config),
  { logger: process.env.NODE_ENV === 'test' ? ['error', 'warn'] : undefined },
);
app.enableShutdownHooks();
installBodyParsers(app);
countRequests(app, app.get(TrafficHistory));
await installSessions(app, config, app.get(GatewayRedis));
const bullBoard = await mountBullBoard(app, config.adminToken);
try {
  await app.listen(config.port, config.host);
} catch (error) {
  console.error(
    `gateway not started: cannot listen on HOST=${config.host} PORT=${config.port}: ${(error as Error).message}`,
  );
  await app.close();
  process.exit(EXIT_CONFIG);
}
applyConnectionLimits(app, config);

const url = `http://${config.host}:${(app.getHttpServer().address() as { port: number }).port}`;
const lines = [
  `gateway listening on ${url} (${config.mode} mode, instance ${config.instanceId})`,
  `  products:  GET/PUT ${url}/products/42`,
  `  orders:    POST ${url}/orders, GET ${url}/orders/:id`,
  `  dashboard: ${url}/dashboard`,
  `  health:    ${url}/health/live, ${url}/health/ready    metrics: ${url}/metrics`,
  `  upstreams: ${config.upstreams.map((u) => `${u.host}:${u.port}`).join(', ')}`,
  bullBoard ? `  bull-board: ${url}${BULL_BOARD_PATH} (admin token)` : '',
  config.adminTokenGenerated
    ? `  admin token (generated; set ADMIN_TOKEN to choose one): ${config.adminToken}`
    : '  admin token: from ADMIN_TOKEN',
];
new Logger('Gateway').log(`${config.mode} mode ready`);
console.log(lines.filter(Boolean).join('\n'));
