import { InvalidLoadBalancerArgumentError } from '../errors/invalid-load-balancer-argument.error.js';
import type { ExecuteOptions, HedgeOptions, ReportOutcome } from '../interfaces/execute-options.interface.js';
import type { LoadBalancedRequestOptions } from '../interfaces/http-request-options.interface.js';
import { FIX_CALL } from '../load-balancer.messages.js';
import { checkHeaders, Checker, RULES } from './value-rules.js';

/** The keys of each argument object, so a misspelled one fails instead of being ignored. */
const HEDGE_KEYS = ['delayMs', 'percentile', 'maxExtra', 'budget', 'onSilence'];
const EXECUTE_KEYS = ['key', 'retries', 'timeoutMs', 'deadlineMs', 'signal', 'retryOn', 'idempotent', 'hedge'];
const REPORT_KEYS = ['latencyMs', 'error'];
const REMOVE_KEYS = ['drainTimeoutMs'];
const REQUEST_KEYS = [
  'method',
  'headers',
  'body',
  'query',
  'key',
  'retries',
  'timeoutMs',
  'maxResponseBytes',
  'hedge',
  'deadlineMs',
  'idempotent',
  'signal',
];

/** A hedge policy: exactly one of `delayMs` / `percentile`, and only on a call marked idempotent. */
function checkHedge(check: Checker, hedge: HedgeOptions, idempotent: unknown, path: string): void {
  check.required(hedge, `${path}.hedge`, RULES.object);
  check.knownKeys(hedge, `${path}.hedge`, HEDGE_KEYS);
  if (idempotent !== true) {
    throw check.fail(
      `${path}.idempotent`,
      'true when `hedge` is set (a hedge sends the same call to two nodes at once, so it must be safe to repeat)',
      idempotent,
    );
  }
  check.optional(hedge.delayMs, `${path}.hedge.delayMs`, RULES.timerOrZeroMs);
  check.optional(hedge.percentile, `${path}.hedge.percentile`, RULES.percentile);
  if ((hedge.delayMs === undefined) === (hedge.percentile === undefined)) {
    throw check.fail(`${path}.hedge`, 'given exactly one of `delayMs` and `percentile`', hedge);
  }
  check.optional(hedge.maxExtra, `${path}.hedge.maxExtra`, RULES.positiveCount);
  check.optional(hedge.budget, `${path}.hedge.budget`, RULES.ratio);
  check.optional(hedge.onSilence, `${path}.hedge.onSilence`, RULES.boolean);
}

/**
 * Call-time argument checks of one balancer. Built once per balancer so a valid call allocates nothing; each check
 * throws `InvalidLoadBalancerArgumentError` in the shared message shape.
 */
export class ArgumentValidator {
  private readonly pickCheck: Checker;
  private readonly executeCheck: Checker;
  private readonly reportCheck: Checker;
  private readonly reportLoadCheck: Checker;
  private readonly removeCheck: Checker;
  private readonly requestCheck: Checker;

  constructor(balancer: string) {
    const checker = (call: string) => new Checker(InvalidLoadBalancerArgumentError, FIX_CALL(balancer, call));
    this.pickCheck = checker('pick()');
    this.executeCheck = checker('execute()');
    this.reportCheck = checker('report()');
    this.reportLoadCheck = checker('reportLoad()');
    this.removeCheck = checker('removeNode()');
    this.requestCheck = checker('LoadBalancedHttpClient.request()');
  }

  /** A routing key must be a string or undefined (`pick` calls this only for a key that is not a string). */
  routingKey(key: unknown, path = 'pick(key)'): void {
    if (key !== undefined && typeof key !== 'string') throw this.pickCheck.fail(path, 'a string or undefined', key);
  }

  execute(fn: unknown, options: ExecuteOptions): void {
    const check = this.executeCheck;
    check.required(fn, 'execute(fn)', RULES.function);
    check.required(options, 'execute(options)', RULES.object);
    check.knownKeys(options, 'execute(options)', EXECUTE_KEYS);
    this.routingKey(options.key, 'execute(options).key');
    check.optional(options.retries, 'execute(options).retries', RULES.count);
    check.optional(options.timeoutMs, 'execute(options).timeoutMs', RULES.timerMs);
    check.optional(options.deadlineMs, 'execute(options).deadlineMs', RULES.timerMs);
    check.optional(options.retryOn, 'execute(options).retryOn', RULES.function);
    check.optional(options.signal, 'execute(options).signal', RULES.signal);
    check.optional(options.idempotent, 'execute(options).idempotent', RULES.boolean);
    if (options.hedge !== undefined) checkHedge(check, options.hedge, options.idempotent, 'execute(options)');
  }

  report(nodeId: unknown, outcome: ReportOutcome): void {
    const check = this.reportCheck;
    check.required(nodeId, 'report(nodeId)', RULES.nonEmptyString);
    check.required(outcome, 'report(outcome)', RULES.object);
    check.knownKeys(outcome, 'report(outcome)', REPORT_KEYS);
    check.required(outcome.latencyMs, 'report(outcome).latencyMs', RULES.latencyMs);
    check.optional(outcome.error, 'report(outcome).error', RULES.errorFlag);
  }

  reportLoad(nodeId: unknown, utilization: unknown): void {
    this.reportLoadCheck.required(nodeId, 'reportLoad(nodeId)', RULES.nonEmptyString);
    this.reportLoadCheck.required(utilization, 'reportLoad(utilization)', RULES.ratio);
  }

  removeNode(id: unknown, options: unknown): void {
    const check = this.removeCheck;
    check.required(id, 'removeNode(id)', RULES.nonEmptyString);
    check.required(options, 'removeNode(options)', RULES.object);
    check.knownKeys(options as object, 'removeNode(options)', REMOVE_KEYS);
    const drainTimeoutMs = (options as { drainTimeoutMs?: unknown }).drainTimeoutMs;
    check.optional(drainTimeoutMs, 'removeNode(options).drainTimeoutMs', RULES.timerOrZeroMs);
  }

  /** Everything undici would refuse inside the balanced try (where it would count against a healthy node). */
  request(path: unknown, options: LoadBalancedRequestOptions): void {
    const check = this.requestCheck;
    check.required(path, 'request(path)', RULES.path);
    check.required(options, 'request(options)', RULES.object);
    check.knownKeys(options, 'request(options)', REQUEST_KEYS);
    check.optional(options.method, 'request(options).method', RULES.token);
    if (options.headers !== undefined) checkHeaders(check, options.headers, 'request(options).headers');
    if (options.query !== undefined) {
      check.required(options.query, 'request(options).query', RULES.object);
      for (const [name, value] of Object.entries(options.query)) {
        check.required(value, `request(options).query[${JSON.stringify(name)}]`, RULES.queryValue);
      }
    }
    const body: unknown = options.body;
    if (typeof body === 'function' || typeof body === 'symbol') {
      throw check.fail('request(options).body', 'a string, bytes, or a JSON-serializable value', body);
    }
    this.routingKey(options.key, 'request(options).key');
    check.optional(options.retries, 'request(options).retries', RULES.count);
    check.optional(options.timeoutMs, 'request(options).timeoutMs', RULES.timerMs);
    check.optional(options.deadlineMs, 'request(options).deadlineMs', RULES.timerMs);
    check.optional(options.maxResponseBytes, 'request(options).maxResponseBytes', RULES.positiveCount);
    check.optional(options.idempotent, 'request(options).idempotent', RULES.boolean);
    check.optional(options.signal, 'request(options).signal', RULES.signal);
  }

  /** A hedge on an HTTP request: the method must be idempotent, or the request marked `idempotent: true`. */
  requestHedge(hedge: HedgeOptions, idempotent: boolean): void {
    checkHedge(this.requestCheck, hedge, idempotent || undefined, 'request(options)');
  }

  /** JSON of an object body, or a clear error for a value `JSON.stringify` refuses (BigInt, cycles). */
  jsonBody(body: unknown): string {
    let json: string | undefined;
    let problem = 'it serializes to nothing';
    try {
      json = JSON.stringify(body) as string | undefined;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    if (json === undefined) {
      throw this.requestCheck.fail('request(options).body', `a JSON-serializable value (${problem})`, body);
    }
    return json;
  }
}
