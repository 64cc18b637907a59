import type { OnApplicationShutdown } from '@nestjs/common';
import { context as otelContext, propagation, trace, type Span } from '@opentelemetry/api';
import { Readable } from 'node:stream';
import { Pool, type Dispatcher } from 'undici';
import { ResponseTooLargeError } from '../errors/response-too-large.error.js';
import { UpstreamStatusError } from '../errors/upstream-status.error.js';
import type { LoadBalancedHttpClientOptions } from '../interfaces/http-client-options.interface.js';
import type { LoadBalancedRequestOptions } from '../interfaces/http-request-options.interface.js';
import type { LoadBalancer } from '../load-balancer.service.js';
import { ArgumentValidator, validateHttpClientOptions } from '../load-balancer-options.validator.js';
import type { UpstreamNode } from '../node/upstream-node.js';
import { DEFAULT_MAX_RESPONSE_BYTES, readBoundedBody } from './bounded-body.js';
import { LoadBalancedHttpResponse } from './load-balanced-http-response.js';
import { LoadBalancedHttpStream } from './load-balanced-http-stream.js';

/** Carries the milliseconds left of the call's deadline to the upstream, so it can give up in time. */
export const DEFAULT_DEADLINE_HEADER = 'x-request-deadline-ms';
const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE', 'TRACE']);
/** Errors raised before a request reached the upstream: safe to retry whatever the method. */
const CONNECT_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/**
 * An HTTP client (undici, one connection Pool per node) whose requests go through a balancer: each try picks a node,
 * 5xx answers and connection errors count as node failures and are retried on another node (idempotent methods, or
 * connect errors for any method), and the latency of every try feeds the balancer's health model.
 * Inject with `@InjectLoadBalancedHttpClient(name)`.
 * @publicApi
 */
export class LoadBalancedHttpClient implements OnApplicationShutdown {
  private readonly pools = new Map<string, { node: UpstreamNode; pool: Pool }>();
  private readonly unsubscribe: () => void;
  private readonly args: ArgumentValidator;
  /** Default headers with lower-cased names, so a request header of any case replaces one instead of doubling it. */
  private readonly defaultHeaders: Record<string, string>;
  /** Lower-cased name of the header that carries the time left, or undefined when turned off. */
  private readonly deadlineHeader: string | undefined;
  private readonly maxResponseBytes: number;
  private readonly loadReportHeader: string | undefined;

  constructor(
    readonly balancer: LoadBalancer,
    private readonly options: LoadBalancedHttpClientOptions = {},
  ) {
    validateHttpClientOptions(balancer.name, options);
    this.args = new ArgumentValidator(balancer.name);
    this.defaultHeaders = lowerCaseNames(options.headers);
    this.maxResponseBytes = options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES;
    this.loadReportHeader = options.loadReportHeader?.toLowerCase();
    this.deadlineHeader =
      options.deadlineHeader === false ? undefined : (options.deadlineHeader ?? DEFAULT_DEADLINE_HEADER).toLowerCase();
    this.unsubscribe = balancer.on('node-removed', ({ node }) => void this.closePool(node.id));
  }

  /**
   * Sends `method path` to a node picked by the balancer and reads the whole response, up to `maxResponseBytes`.
   * Resolves with any response below 500; when every try ends in a 5xx, resolves with the last one. Rejects with the
   * last connection or timeout error, `DeadlineExceededError`, `ResponseTooLargeError`, or `NoAvailableNodeError`.
   * Bad arguments reject with `InvalidLoadBalancerArgumentError` before any node is tried, so they never count
   * against a node.
   */
  async request(path: string, options: LoadBalancedRequestOptions = {}): Promise<LoadBalancedHttpResponse> {
    const limit = options.maxResponseBytes ?? this.maxResponseBytes;
    const result = await this.send(path, options, async (response, node, method, fullPath) => {
      const bytes = await readBoundedBody(response.body, response.headers, limit);
      // The node answered: a body over the cap is the caller's limit, not a node failure, and is not retried.
      if (bytes === undefined) return new ResponseTooLargeError(node.id, limit, response.statusCode, method, fullPath);
      return new LoadBalancedHttpResponse(response.statusCode, response.headers, bytes, node.id);
    });
    if (result instanceof ResponseTooLargeError) throw result;
    return result;
  }

  /**
   * As `request`, but resolves as soon as the headers arrive, with the body as a stream (no `maxResponseBytes` cap).
   * The try, its latency and the deadline end at the headers. 5xx answers are read (capped) and retried as usual.
   */
  async stream(path: string, options: LoadBalancedRequestOptions = {}): Promise<LoadBalancedHttpStream> {
    const result = await this.send(
      path,
      options,
      async (response, node) =>
        new LoadBalancedHttpStream(response.statusCode, response.headers, response.body, node.id),
    );
    if (result instanceof LoadBalancedHttpResponse) {
      return new LoadBalancedHttpStream(result.status, result.headers, Readable.from([result.body]), result.nodeId);
    }
    return result;
  }

  private async send<R>(
    path: string,
    options: LoadBalancedRequestOptions,
    accept: (response: Dispatcher.ResponseData, node: UpstreamNode, method: string, fullPath: string) => Promise<R>,
  ): Promise<R | LoadBalancedHttpResponse> {
    this.args.request(path, options);
    const method = (options.method ?? 'GET').toUpperCase();
    const fullPath = withQuery(path.startsWith('/') ? path : `/${path}`, options.query);
    const headers = { ...this.defaultHeaders, ...lowerCaseNames(options.headers) };
    let body: string | Buffer | Uint8Array | undefined;
    if (options.body === undefined || typeof options.body === 'string' || options.body instanceof Uint8Array) {
      body = options.body;
    } else {
      body = this.args.jsonBody(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const idempotent = options.idempotent ?? IDEMPOTENT_METHODS.has(method);
    if (options.hedge !== undefined) this.args.requestHedge(options.hedge, idempotent);
    const limit = options.maxResponseBytes ?? this.maxResponseBytes;
    const balancerDefaults = this.balancer.options;
    const retries = options.retries ?? this.options.retries ?? balancerDefaults.retries ?? 0;
    try {
      return await this.balancer.execute(
        async (node, signal, context) => {
          let sent =
            context.remainingMs === undefined || this.deadlineHeader === undefined
              ? headers
              : { ...headers, [this.deadlineHeader]: String(Math.max(1, Math.floor(context.remainingMs))) };
          // The try's span, present only when a tracer provider is registered (the balancer starts none otherwise).
          const span = trace.getActiveSpan();
          if (span !== undefined) sent = traced(span, node, method, sent);
          const response = await this.pool(node).request({ path: fullPath, method, headers: sent, body, signal });
          span?.setAttribute('http.response.status_code', response.statusCode);
          if (this.loadReportHeader !== undefined) this.readLoadReport(node, response.headers[this.loadReportHeader]);
          if (response.statusCode < 500) return accept(response, node, method, fullPath);
          const bytes = await readBoundedBody(response.body, response.headers, limit);
          if (bytes === undefined)
            throw new ResponseTooLargeError(node.id, limit, response.statusCode, method, fullPath);
          const failed = new LoadBalancedHttpResponse(response.statusCode, response.headers, bytes, node.id);
          throw new UpstreamStatusError(failed, method, fullPath);
        },
        {
          key: options.key,
          retries,
          timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? balancerDefaults.timeoutMs ?? 10_000,
          deadlineMs: options.deadlineMs ?? this.options.deadlineMs,
          signal: options.signal,
          retryOn: idempotent ? undefined : isConnectError,
          idempotent: idempotent || undefined,
          hedge: options.hedge,
        },
      );
    } catch (error) {
      if (error instanceof UpstreamStatusError) return error.response;
      throw error;
    }
  }

  get(path: string, options?: Omit<LoadBalancedRequestOptions, 'method'>): Promise<LoadBalancedHttpResponse> {
    return this.request(path, { ...options, method: 'GET' });
  }

  post(
    path: string,
    body: unknown,
    options?: Omit<LoadBalancedRequestOptions, 'method' | 'body'>,
  ): Promise<LoadBalancedHttpResponse> {
    return this.request(path, { ...options, method: 'POST', body });
  }

  /** Closes every connection pool. */
  async close(): Promise<void> {
    this.unsubscribe();
    await Promise.all([...this.pools.keys()].map((id) => this.closePool(id)));
  }

  async onApplicationShutdown(): Promise<void> {
    await this.close();
  }

  /** A malformed report is the upstream's bug, not the caller's: it is ignored rather than failing the request. */
  private readLoadReport(node: UpstreamNode, value: string | string[] | undefined): void {
    const utilization = typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
    if (utilization >= 0 && utilization <= 1) this.balancer.reportLoad(node.id, utilization);
  }

  private pool(node: UpstreamNode): Pool {
    const entry = this.pools.get(node.id);
    if (entry !== undefined && entry.node === node) return entry.pool;
    if (entry !== undefined) void entry.pool.close();
    const host = node.host.includes(':') ? `[${node.host}]` : node.host;
    const pool = new Pool(`${this.options.protocol ?? 'http'}://${host}:${node.port}`, {
      connections: this.options.connections ?? 64,
      connect: { timeout: this.options.connectTimeoutMs ?? 5_000 },
    });
    this.pools.set(node.id, { node, pool });
    return pool;
  }

  private async closePool(id: string): Promise<void> {
    const entry = this.pools.get(id);
    if (entry === undefined) return;
    this.pools.delete(id);
    await entry.pool.destroy();
  }
}

function lowerCaseNames(headers: Record<string, string> | undefined): Record<string, string> {
  // No prototype: a header literally named `__proto__` stays a header.
  const lower = Object.create(null) as Record<string, string>;
  if (headers !== undefined) for (const [name, value] of Object.entries(headers)) lower[name.toLowerCase()] = value;
  return lower;
}

/** Adds the HTTP attributes to the try's span and the trace context (W3C `traceparent`…) to a copy of the headers. */
function traced(
  span: Span,
  node: UpstreamNode,
  method: string,
  headers: Record<string, string>,
): Record<string, string> {
  span.setAttributes({ 'http.request.method': method, 'server.address': node.host, 'server.port': node.port });
  const carrier = { ...headers };
  propagation.inject(otelContext.active(), carrier);
  return carrier;
}

function isConnectError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && CONNECT_ERROR_CODES.has(code);
}

function withQuery(path: string, query: LoadBalancedRequestOptions['query']): string {
  if (query === undefined) return path;
  const search = new URLSearchParams(
    Object.entries(query).map(([k, v]): [string, string] => [k, String(v)]),
  ).toString();
  if (search.length === 0) return path;
  return `${path}${path.includes('?') ? '&' : '?'}${search}`;
}
