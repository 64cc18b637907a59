import * as fc from 'fast-check';
import { propertyParameters } from '../../../test/harness/index.js';
import { ManualClock } from './clock/manual-clock.js';
import { InvalidLoadBalancerArgumentError } from './errors/invalid-load-balancer-argument.error.js';
import { InvalidLoadBalancerOptionsError } from './errors/invalid-load-balancer-options.error.js';
import { LoadBalancer } from './load-balancer.service.js';
import { MAX_TIMER_MS } from './load-balancer-options.validator.js';

/** Any JavaScript value a config file or a caller could pass where a number belongs. */
const anyNumberish = fc.oneof(
  fc.double(),
  fc.integer({ min: -10, max: 10 }),
  fc.integer({ min: MAX_TIMER_MS - 2, max: MAX_TIMER_MS + 2 }),
  fc.constantFrom(Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -0, 2 ** 31, 2 ** 53),
  fc.string({ maxLength: 4 }),
  fc.constantFrom(null, true, [], {}),
);

const isTimer = (v: unknown) => Number.isInteger(v) && (v as number) >= 1 && (v as number) <= MAX_TIMER_MS;
const isRatio = (v: unknown) => typeof v === 'number' && v >= 0 && v <= 1;

function outcome(run: () => unknown): 'accepted' | 'rejected' {
  try {
    run();
    return 'accepted';
  } catch (error) {
    if (error instanceof InvalidLoadBalancerOptionsError || error instanceof InvalidLoadBalancerArgumentError) {
      return 'rejected';
    }
    throw error;
  }
}

const balancer = (extra: Record<string, unknown>) =>
  new LoadBalancer({ nodes: [{ id: 'n0', host: 'h', port: 1 }], clock: new ManualClock(), ...extra } as never);

describe('shared bounds as an oracle (defect 26)', () => {
  it('defect 26: a timer option is accepted exactly when it is an integer from 1 to 2^31 - 1', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('timeoutMs', 'healthCheck.intervalMs', 'outlierDetection.probeTimeoutMs'),
        anyNumberish,
        (path, value) => {
          const [group, key] = path.split('.');
          const options = key === undefined ? { [group]: value } : { [group]: { [key]: value } };
          expect(outcome(() => balancer(options))).toBe(isTimer(value) ? 'accepted' : 'rejected');
        },
      ),
      propertyParameters(300),
    );
  });

  it('defect 26: execute({ timeoutMs }) and removeNode({ drainTimeoutMs }) follow the same bound', async () => {
    await fc.assert(
      fc.asyncProperty(anyNumberish, async (value) => {
        const lb = balancer({});
        const executed = await lb
          .execute(() => 'ok', { timeoutMs: value as number })
          .then(
            () => 'accepted',
            (e: unknown) => (e instanceof InvalidLoadBalancerArgumentError ? 'rejected' : 'other'),
          );
        expect(executed).toBe(isTimer(value) ? 'accepted' : 'rejected');
        const removed = await lb.removeNode('n0', { drainTimeoutMs: value as number }).then(
          () => 'accepted',
          (e: unknown) => (e instanceof InvalidLoadBalancerArgumentError ? 'rejected' : 'other'),
        );
        expect(removed).toBe(isTimer(value) || value === 0 ? 'accepted' : 'rejected');
      }),
      propertyParameters(300),
    );
  });

  it('defect 24: report() accepts a latency exactly when it is finite and from 0 to 2^31 - 1, and then health stays finite', () => {
    fc.assert(
      fc.property(
        anyNumberish,
        fc.constantFrom(undefined, true, false, null, new Error('x'), 'false', 0),
        (latency, error) => {
          const lb = balancer({ outlierDetection: false });
          const valid =
            typeof latency === 'number' &&
            Number.isFinite(latency) &&
            latency >= 0 &&
            latency <= MAX_TIMER_MS &&
            (error === undefined || error === null || typeof error === 'boolean' || typeof error === 'object');
          expect(outcome(() => lb.report('n0', { latencyMs: latency as number, error }))).toBe(
            valid ? 'accepted' : 'rejected',
          );
          for (const node of lb.nodes()) {
            expect(Number.isFinite(node.healthScore) && Number.isFinite(node.latencyMs)).toBe(true);
          }
          expect(lb.pick().id).toBe('n0');
        },
      ),
      propertyParameters(300),
    );
  });

  it('a ratio option is accepted exactly when it is a number from 0 to 1', () => {
    fc.assert(
      fc.property(fc.constantFrom('panicThreshold', 'slowStart.minFactor'), anyNumberish, (path, value) => {
        const [group, key] = path.split('.');
        const options = key === undefined ? { [group]: value } : { [group]: { [key]: value } };
        expect(outcome(() => balancer(options))).toBe(isRatio(value) ? 'accepted' : 'rejected');
      }),
      propertyParameters(200),
    );
  });
});
