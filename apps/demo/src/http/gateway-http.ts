import { UnsupportedMediaTypeException } from '@nestjs/common';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Server } from 'node:http';
import type { TrafficHistory } from '../history/traffic-history.js';
import type { DemoConfig } from '../config/demo-config.js';
import { parseJsonBody } from './json-body.parser.js';

/** A catalog gateway takes small JSON bodies; anything larger is refused with 413 before it is parsed. */
export const BODY_LIMIT_BYTES = 16 * 1024;

/**
 * The HTTP server with limits for slow or abusive clients: a request must arrive in full (headers and body) within
 * `requestTimeoutMs`, idle keep-alive sockets close after `keepAliveTimeoutMs`, and Node checks those every second
 * (its default is every 30 s, which lets a slow-drip client hold a socket that long).
 */
export function createGatewayAdapter(config: DemoConfig): FastifyAdapter {
  return new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    requestTimeout: config.requestTimeoutMs,
    keepAliveTimeout: config.keepAliveTimeoutMs,
    http: { connectionsCheckingInterval: 1_000, headersTimeout: config.requestTimeoutMs },
  });
}

/** JSON only, parsed by `parseJsonBody`; form bodies (what a cross-site form sends) are refused with 415. */
export function installBodyParsers(app: NestFastifyApplication): void {
  app.useBodyParser('application/json', { bodyLimit: BODY_LIMIT_BYTES }, async (_request: unknown, body: Buffer) =>
    parseJsonBody(body.toString('utf8')),
  );
  app.useBodyParser(['application/x-www-form-urlencoded', 'multipart/form-data'], {}, () => {
    throw new UnsupportedMediaTypeException('this gateway takes JSON bodies only (content-type: application/json)');
  });
}

/** Connections beyond `maxConnections` are refused at accept, so idle sockets cannot exhaust the process. */
export function applyConnectionLimits(app: NestFastifyApplication, config: DemoConfig): void {
  (app.getHttpServer() as Server).maxConnections = config.maxConnections;
}

/**
 * Every request counts for the dashboard's requests/s chart: a listener on the Node server's `request` event, which
 * costs less per request than a Fastify hook.
 */
export function countRequests(app: NestFastifyApplication, history: TrafficHistory): void {
  (app.getHttpServer() as Server).on('request', () => history.countRequest());
}
