import {
  Inject,
  Injectable,
  Logger,
  Optional,
  type CallHandler,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { HttpAdapterHost, Reflector } from '@nestjs/core';
import { lastValueFrom, of, type Observable } from 'rxjs';
import { compatTtl } from '../compat/compat-ttl.js';
import { CacheSerializationError } from '../errors/cache-serialization.error.js';
import type { CacheOutcome, CacheWrapOptions } from '../interfaces/index.js';
import { UNCACHEABLE_ANSWER } from '../multi-level-cache.messages.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { CACHE_KEY_METADATA, CACHE_TTL_METADATA, CACHE_VARY_METADATA } from './cache-route.constants.js';
import type { CacheKeyFactory, CacheTtlFactory } from './cache-route.decorators.js';
import { etagOf, requestKey, withVary, type KeyedRequest } from './http-cache-key.js';
import { answerProblem, matchesEtag, requestMode, type InspectedResponse } from './http-cache-policy.js';

/** What is cached for a route: the handler's result and the ETag of its JSON form. @internal */
interface CachedAnswer {
  body: unknown;
  etag: string;
}

/** A route's cache settings, read from its metadata once. */
interface RouteSettings {
  key: string | CacheKeyFactory | undefined;
  ttl: number | CacheTtlFactory | undefined;
  vary: readonly string[];
  /** The `Vary` response header, when the route varies on headers. */
  varyHeader: string | undefined;
  /** Options of `wrap`/`set` for a fixed TTL, built once. */
  store: CacheWrapOptions;
  /** An answer of the route could not be encoded, and that was logged. */
  warned: boolean;
}

/** Thrown by the loader for an answer that must not be stored; every request waiting on it answers on its own. */
const UNCACHEABLE = Symbol('uncacheable-answer');

/** `X-Cache` of each outcome of the cache: `MISS` also for an answer another request's load produced. */
const OUTCOMES = { hit: 'HIT', miss: 'MISS', stale: 'STALE' } as const;
type Outcome = (typeof OUTCOMES)[CacheOutcome];

/**
 * HTTP response caching on the multi-level cache (all its tiers, single-flight, coherence across instances). Use it
 * per controller or route (`@UseInterceptors(CacheInterceptor)`) or for the whole app (`APP_INTERCEPTOR`).
 *
 * Safe by default: only GET and HEAD; only 2xx answers that set no cookie and are not `Cache-Control:
 * private`/`no-store`/`no-cache`; a request with `Authorization` or a cookie only on a route that varies on it
 * (`@CacheVary('authorization')`), so the key tells users apart. Keys hold the method, the path, the query sorted by
 * parameter name and the varied headers (or `@CacheKey`'s key plus the varied headers). Answers carry `X-Cache: HIT`
 * (this request's handler did not run) or `MISS`, and an `ETag`; `If-None-Match` with it gets a 304. A request with
 * `Cache-Control: no-cache` runs the handler and stores its answer. Routes of other transports (RPC, WebSocket) are
 * not cached.
 *
 * Subclasses may override `trackBy` (as with `@nestjs/cache-manager`): its key replaces the default one; the safety
 * rules and the varied headers still apply.
 * @publicApi
 */
@Injectable()
export class CacheInterceptor implements NestInterceptor {
  @Optional()
  @Inject()
  protected readonly httpAdapterHost?: HttpAdapterHost;

  /** Methods whose answers may be cached. */
  protected allowedMethods: readonly string[] = ['GET', 'HEAD'];

  private readonly routes = new Map<object, RouteSettings>();
  private readonly logger = new Logger('CacheInterceptor');

  constructor(
    protected readonly cache: MultiLevelCache,
    protected readonly reflector: Reflector,
  ) {}

  /** An L1 hit answers synchronously (no Promise, no await); everything else goes through `serve`. */
  intercept(context: ExecutionContext, next: CallHandler): Observable<unknown> | Promise<Observable<unknown>> {
    if (context.getType() !== 'http') return next.handle();
    const http = context.switchToHttp();
    const req = http.getRequest<KeyedRequest>();
    const route = this.settings(context);
    const mode = requestMode(req, route.vary, this.allowedMethods);
    if (mode === 'skip') return next.handle();
    const base = this.trackBy(context);
    if (typeof base !== 'string') {
      return Promise.resolve(base).then((b) =>
        b === undefined ? next.handle() : this.serve(context, next, req, route, mode, fullKey(b, route, req)),
      );
    }
    const key = fullKey(base, route, req);
    if (mode === 'cache') {
      const hit = this.cache.peek(key);
      // An entry due for an eager refresh (`refreshAhead`) goes through the cache, which starts the refresh.
      if (hit !== undefined && isAnswer(hit.value) && hit.refreshAt > performance.now())
        return this.reply(req, http.getResponse(), route, hit.value, hit.value.body, 'HIT');
    }
    return this.serve(context, next, req, route, mode, key);
  }

  /** Everything but an L1 hit: Redis, the handler (single-flight), `no-cache` refreshes. `key` holds the vary part. */
  private async serve(
    context: ExecutionContext,
    next: CallHandler,
    req: KeyedRequest,
    route: RouteSettings,
    mode: 'cache' | 'refresh',
    key: string,
  ): Promise<Observable<unknown>> {
    const store = typeof route.ttl === 'function' ? await this.storeOptions(route.ttl, context) : route.store;
    const res = context.switchToHttp().getResponse<InspectedResponse>();

    let ran: { value: unknown; failed: boolean } | undefined;
    const load = async (): Promise<CachedAnswer> => {
      const value = await lastValueFrom(next.handle(), { defaultValue: undefined });
      ran = { value, failed: res.statusCode >= 500 };
      return this.answerOf(value, res, route);
    };
    if (mode === 'refresh') {
      const answer = await load().catch(rethrowUnlessUncacheable);
      const { value } = ran as unknown as { value: unknown };
      if (answer === undefined) return of(value);
      try {
        await this.cache.set(key, answer, store);
      } catch (error) {
        if (error instanceof CacheSerializationError) return of(value);
        throw error;
      }
      return this.reply(req, res, route, answer, value, 'MISS');
    }

    let answer: unknown;
    let outcome: CacheOutcome;
    try {
      ({ value: answer, outcome } = await this.cache.wrapWithOutcome(key, load, store));
    } catch (error) {
      // Our handler ran but its answer could not be cached: send it as it is.
      if (ran) {
        if (error instanceof CacheSerializationError) this.warnOnce(route, key, error);
        return of(ran.value);
      }
      // Another request's answer could not be cached (it may be meant for that request only): answer this one anew.
      if (error === UNCACHEABLE || error instanceof CacheSerializationError) return next.handle();
      throw error;
    }
    // Our handler answered but its answer was not stored, and the cache served the last known one (fail-safe): send
    // the handler's answer unless it is a server error, for which the stale one is the point.
    if (ran && outcome === 'stale' && !ran.failed) return of(ran.value);
    // Something else stored under this key (e.g. a value set through CACHE_MANAGER): not ours to serve.
    if (!isAnswer(answer)) return next.handle();
    return this.reply(req, res, route, answer, ran && outcome !== 'stale' ? ran.value : answer.body, OUTCOMES[outcome]);
  }

  /**
   * The key of the request's answer before the varied headers are appended, or undefined to not cache it:
   * `@CacheKey`'s key, else `<METHOD> <path>?<sorted query>`.
   */
  protected trackBy(context: ExecutionContext): string | undefined | Promise<string | undefined> {
    const custom = this.settings(context).key;
    if (typeof custom === 'string') return custom;
    if (custom !== undefined) return custom(context);
    return requestKey(context.switchToHttp().getRequest<KeyedRequest>());
  }

  private reply(
    req: KeyedRequest,
    res: InspectedResponse,
    route: RouteSettings,
    answer: CachedAnswer,
    body: unknown,
    outcome: Outcome,
  ): Observable<unknown> {
    const adapter = this.httpAdapterHost?.httpAdapter;
    if (adapter) {
      adapter.setHeader(res, 'X-Cache', outcome);
      adapter.setHeader(res, 'ETag', answer.etag);
      if (route.varyHeader !== undefined) adapter.setHeader(res, 'Vary', route.varyHeader);
    }
    if (matchesEtag(req.headers['if-none-match'], answer.etag)) {
      const headers: Record<string, string> = { etag: answer.etag, 'x-cache': outcome };
      if (route.varyHeader !== undefined) headers.vary = route.varyHeader;
      return of(new Response(null, { status: 304, headers }));
    }
    return of(body);
  }

  /** The answer to store, or throws `UNCACHEABLE`. */
  private answerOf(body: unknown, res: InspectedResponse, route: RouteSettings): CachedAnswer {
    if (answerProblem(body, res, route.vary) !== undefined) throw UNCACHEABLE;
    let json: string | undefined;
    try {
      json = typeof body === 'string' ? body : JSON.stringify(body);
    } catch {
      // The adapter will fail to send it too, with its own error.
      throw UNCACHEABLE;
    }
    return { body, etag: etagOf(json ?? '') };
  }

  private warnOnce(route: RouteSettings, key: string, error: CacheSerializationError): void {
    if (route.warned) return;
    route.warned = true;
    this.logger.warn(UNCACHEABLE_ANSWER(key.split('\n')[0], error.message));
  }

  private async storeOptions(ttl: CacheTtlFactory, context: ExecutionContext): Promise<CacheWrapOptions> {
    return { ttl: compatTtl('@CacheTTL(factory) result', await ttl(context)) };
  }

  private settings(context: ExecutionContext): RouteSettings {
    const handler = context.getHandler();
    let route = this.routes.get(handler);
    if (route === undefined) {
      const targets = [handler, context.getClass()];
      const ttl = this.reflector.getAllAndOverride<number | CacheTtlFactory | undefined>(CACHE_TTL_METADATA, targets);
      const vary = this.reflector.getAllAndOverride<string[] | undefined>(CACHE_VARY_METADATA, targets) ?? [];
      const fixed = typeof ttl === 'function' ? undefined : compatTtl('@CacheTTL(ttl)', ttl ?? undefined);
      route = {
        key: this.reflector.get<string | CacheKeyFactory | undefined>(CACHE_KEY_METADATA, handler),
        ttl: typeof ttl === 'function' ? ttl : fixed,
        vary,
        varyHeader: vary.length === 0 ? undefined : vary.join(', '),
        store: { ttl: fixed },
        warned: false,
      };
      this.routes.set(handler, route);
    }
    return route;
  }
}

function fullKey(base: string, route: RouteSettings, req: KeyedRequest): string {
  return route.vary.length === 0 ? base : withVary(base, route.vary, req.headers);
}

function isAnswer(value: unknown): value is CachedAnswer {
  return (
    typeof value === 'object' && value !== null && typeof (value as CachedAnswer).etag === 'string' && 'body' in value
  );
}

function rethrowUnlessUncacheable(error: unknown): undefined {
  if (error === UNCACHEABLE) return undefined;
  throw error;
}
