import 'reflect-metadata';
import type { INestApplication, LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import type { FaultSettings } from './faults/fault-settings.js';
import type { ProductRepository } from './products/product.repository.js';
import { UpstreamModule } from './upstream.module.js';

export interface UpstreamNodeOptions {
  nodeId: string;
  port: number;
  host?: string;
  repository: ProductRepository;
  faults?: Partial<FaultSettings>;
  logger?: LogLevel[] | false;
}

/** Boots one upstream node and returns the listening app. */
export async function startUpstreamNode(options: UpstreamNodeOptions): Promise<INestApplication> {
  const app = await NestFactory.create<NestExpressApplication>(
    UpstreamModule.forRoot({ nodeId: options.nodeId, repository: options.repository, faults: options.faults }),
    { logger: options.logger ?? ['error', 'warn'] },
  );
  app.useBodyParser('json', { limit: '64kb' });
  await app.listen(options.port, options.host ?? '127.0.0.1');
  return app;
}
