import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import { hashTag, resolveRegisteredQueueOptions, resolveTaskQueueOptions } from './task-queue.options.js';

const seeds = [
  { host: '10.0.0.1', port: 7000 },
  { host: '10.0.0.2', port: 7001 },
];

describe('resolveTaskQueueOptions with a Redis Cluster connection', () => {
  it('defaults the prefix to the queue name as a hash tag, so each queue has its own slot', () => {
    const a = resolveTaskQueueOptions({ driver: 'bullmq', connection: { cluster: seeds } }, 'orders');
    const b = resolveTaskQueueOptions({ driver: 'bullmq', connection: { cluster: seeds } }, 'emails');
    expect(a.prefix).toBe('{orders}');
    expect(b.prefix).toBe('{emails}');
    expect(a.cluster).toEqual({ nodes: seeds, options: {} });
    expect(a.connection).toBeUndefined();
  });

  it('keeps a prefix that carries a hash tag, and passes clusterOptions on', () => {
    const resolved = resolveTaskQueueOptions(
      {
        driver: 'bullmq',
        connection: { cluster: ['redis://10.0.0.1:7000', '10.0.0.2:7001'], clusterOptions: { scaleReads: 'master' } },
        prefix: 'app:{tasks}',
      },
      'orders',
    );
    expect(resolved.prefix).toBe('app:{tasks}');
    expect(resolved.cluster).toEqual({
      nodes: ['redis://10.0.0.1:7000', '10.0.0.2:7001'],
      options: { scaleReads: 'master' },
    });
  });

  it.each(['tasks', 'tasks}{', '{}x', ''])(
    'rejects the prefix %j, which has no hash tag, with a fix in the message',
    (prefix) => {
      const resolve = () =>
        resolveTaskQueueOptions({ driver: 'bullmq', connection: { cluster: seeds }, prefix }, 'orders');
      expect(resolve).toThrow(InvalidTaskQueueOptionsError);
      expect(resolve).toThrow(/hash tag.*"\{.*:orders\}"/s);
    },
  );

  it.each([
    [[], 'connection.cluster'],
    [[{ host: '10.0.0.1', port: 0 }], 'connection.cluster[0]'],
    [[{ host: '', port: 7000 }], 'connection.cluster[0]'],
    [[seeds[0], 'redis://10.0.0.2'], 'connection.cluster[1]'],
    [[seeds[0], 'http://10.0.0.2:7001'], 'connection.cluster[1]'],
  ])('rejects the seed nodes %j, naming %s', (cluster, option) => {
    expect(() => resolveTaskQueueOptions({ driver: 'bullmq', connection: { cluster } as never }, 'orders')).toThrow(
      new RegExp(`\`${option.replace(/[[\]]/g, '\\$&')}\` must be`),
    );
  });

  it('ignores a cluster connection with the memory driver, as it ignores any connection', () => {
    const resolved = resolveTaskQueueOptions({ driver: 'memory', connection: { cluster: [] } }, 'orders');
    expect(resolved.cluster).toBeUndefined();
    expect(resolved.prefix).toBeUndefined();
  });
});

describe('hashTag', () => {
  it('follows Redis Cluster: the text between the first { and the next }, when not empty', () => {
    expect(hashTag('{tasks}')).toBe('tasks');
    expect(hashTag('a{b}c{d}')).toBe('b');
    expect(hashTag('{}{x}')).toBeUndefined();
    expect(hashTag('no-tag')).toBeUndefined();
    expect(hashTag('{open')).toBeUndefined();
  });
});

const HOSTILE_NUMBERS = [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, -1, 1.5, '5', null];
const TIMER_LIMIT = 2_147_483_647;

const boot = (options: Record<string, unknown>) => () =>
  resolveTaskQueueOptions({ driver: 'memory', ...options } as never, 'orders');

describe('defect 26: every numeric module option is checked against one set of bounds', () => {
  it.each([
    ['timeoutMs', TIMER_LIMIT + 1],
    ['shutdownDeadlineMs', 2 ** 31],
    ['enqueueTimeoutMs', 2 ** 31],
    ['bullmq.lockDurationMs', 2 ** 31],
    ['bullmq.stalledIntervalMs', 2 ** 40],
    ['bullmq.reconnectMaxDelayMs', 2 ** 31],
    ['backoff.delayMs', 2 ** 31],
  ])('rejects %s = %d (Node would fire that timer after ~1 ms), naming it and the limit', (path, value) => {
    const options = path.includes('.') ? nest(path, value) : { [path]: value };
    expect(boot(options)).toThrow(InvalidTaskQueueOptionsError);
    expect(boot(options)).toThrow(
      new RegExp(
        `^\`${path.replace('.', '\\.')}\` must be an integer from \\d+ to 2147483647 \\(milliseconds\\); got ${value}\\. Node fires`,
      ),
    );
  });

  it('accepts every timer option at the limit itself', () => {
    const resolved = resolveTaskQueueOptions(
      {
        timeoutMs: TIMER_LIMIT,
        shutdownDeadlineMs: TIMER_LIMIT,
        enqueueTimeoutMs: TIMER_LIMIT,
        backoff: { type: 'fixed', delayMs: TIMER_LIMIT },
        bullmq: { lockDurationMs: TIMER_LIMIT, stalledIntervalMs: TIMER_LIMIT },
      },
      'orders',
    );
    expect(resolved.timeoutMs).toBe(TIMER_LIMIT);
  });

  const numericPaths = [
    'concurrency',
    'attempts',
    'timeoutMs',
    'dedupWindowMs',
    'shutdownDeadlineMs',
    'keepCompleted',
    'enqueueTimeoutMs',
    'backoff.delayMs',
    'bullmq.lockDurationMs',
    'bullmq.stalledIntervalMs',
    'bullmq.maxStalledCount',
    'bullmq.reconnectMaxDelayMs',
    'retention.completed.count',
    'retention.completed.ageMs',
    'retention.dead.count',
    'retention.dead.ageMs',
  ];
  it.each(numericPaths.flatMap((path) => HOSTILE_NUMBERS.map((value) => [path, value] as const)))(
    'rejects %s = %s with a message naming it and the value',
    (path, value) => {
      const options = path.includes('.') ? nest(path, value) : { [path]: value };
      expect(boot(options)).toThrow(InvalidTaskQueueOptionsError);
      expect(boot(options)).toThrow(`\`${path}\` must be`);
      expect(boot(options)).toThrow(`; got ${value === '5' ? '"5"' : String(value)}.`);
    },
  );

  it('bullmq.reconnectMaxDelayMs defaults to 500 ms and keeps a given value', () => {
    expect(resolveTaskQueueOptions({}, 'orders').bullmq.reconnectMaxDelayMs).toBe(500);
    expect(resolveTaskQueueOptions({ bullmq: { reconnectMaxDelayMs: 2_000 } }, 'o').bullmq.reconnectMaxDelayMs).toBe(
      2_000,
    );
    expect(boot({ bullmq: { reconnectMaxDelayMs: 0 } })).toThrow(/`bullmq\.reconnectMaxDelayMs` must be an integer/);
  });

  it('defect 27: maps retention to defaults, keepCompleted to retention.completed.count, and explicit values win', () => {
    expect(resolveTaskQueueOptions({}, 'orders').retention).toEqual({
      completed: { count: 1_000, ageMs: 86_400_000 },
      dead: { count: 10_000, ageMs: 604_800_000 },
    });
    expect(resolveTaskQueueOptions({ keepCompleted: 5 }, 'orders').retention.completed.count).toBe(5);
    expect(
      resolveTaskQueueOptions({ keepCompleted: 5, retention: { completed: { count: 7 }, dead: { ageMs: 1_000 } } }, 'o')
        .retention,
    ).toEqual({ completed: { count: 7, ageMs: 86_400_000 }, dead: { count: 10_000, ageMs: 1_000 } });
    expect(boot({ retention: 5 })).toThrow(/`retention` must be an object/);
    expect(boot({ retention: { dead: 'all' } })).toThrow(/`retention\.dead` must be an object/);
  });
});

/** `{ a: { b: value } }` for the path "a.b" (backoff gets a valid type so only delayMs is wrong). */
function nest(path: string, value: unknown): Record<string, unknown> {
  const keys = path.split('.');
  const root: Record<string, unknown> = {};
  let at = root;
  keys.forEach((key, i) => {
    if (i === keys.length - 1) at[key] = value;
    else at = at[key] = key === 'backoff' ? { type: 'fixed' } : {};
  });
  return root;
}

describe('unknown option keys', () => {
  it('fail the boot naming the key, with the nearest known one when it looks like a typo', () => {
    expect(boot({ shutdownTimeoutMs: 5_000 })).toThrow(
      /TaskQueueModule has no option `shutdownTimeoutMs`: did you mean `shutdownDeadlineMs`\? Known options: driver, /,
    );
    expect(boot({ concurency: 4 })).toThrow(/did you mean `concurrency`\?/);
    expect(boot({ redis: { url: 'redis://x' } })).toThrow(/no option `redis`\. Known options:/);
    expect(boot({ redis: {} })).toThrow(InvalidTaskQueueOptionsError);
  });

  it('in registerQueue options too, and every documented key passes', () => {
    expect(() =>
      resolveRegisteredQueueOptions({ driver: 'memory' }, { name: 'mail', atempts: 2 } as never, undefined),
    ).toThrow(/no option `atempts`: did you mean `attempts`\?/);
    expect(
      boot({
        connection: { url: 'redis://127.0.0.1:6379' },
        prefix: 'p',
        concurrency: 2,
        attempts: 2,
        backoff: { type: 'fixed', delayMs: 10 },
        timeoutMs: 1_000,
        dedupWindowMs: 1_000,
        shutdownDeadlineMs: 1_000,
        workers: false,
        keepCompleted: 5,
        retention: {},
        enqueueTimeoutMs: 1_000,
        bullmq: {},
        warnWithoutShutdownHooks: false,
      }),
    ).not.toThrow();
  });
});

const register = (queue: Record<string, unknown>) => () =>
  resolveRegisteredQueueOptions({ driver: 'memory' }, { name: 'mail', ...queue } as never, undefined);

describe('unknown keys inside nested option objects', () => {
  const fill = { count: 1, ageMs: 1_000 };
  it.each([
    [
      'bullmq',
      { bullmq: { lockDuratonMs: 1_000 } },
      'lockDuratonMs',
      'lockDurationMs',
      'reconnectMaxDelayMs, lockDurationMs',
    ],
    ['retention', { retention: { complete: fill } }, 'complete', 'completed', 'completed, dead'],
    ['retention.completed', { retention: { completed: { agMs: 1_000 } } }, 'agMs', 'ageMs', 'count, ageMs'],
    ['retention.dead', { retention: { dead: { cont: 5 } } }, 'cont', 'count', 'count, ageMs'],
    ['backoff', { backoff: { type: 'fixed', delayMs: 10, jiter: 0.2 } }, 'jiter', 'jitter', 'type, delayMs, jitter'],
  ])(
    'fail the boot on a misspelled key in `%s`, naming the path, the key and the nearest known one',
    (path, options, key, suggestion, known) => {
      expect(boot(options)).toThrow(InvalidTaskQueueOptionsError);
      expect(boot(options)).toThrow(
        `\`${path}\` has no key "${key}": did you mean "${suggestion}"? Known keys: ${known}`,
      );
      expect(boot(options)).toThrow(/\(a misspelled key would otherwise be ignored\)\.$/);
    },
  );

  it('name no suggestion when the key looks like none of the known ones (a BullMQ Worker option, say)', () => {
    expect(boot({ bullmq: { removeOnComplete: 10 } })).toThrow(
      /^`bullmq` has no key "removeOnComplete"\. Known keys: reconnectMaxDelayMs, lockDurationMs, stalledIntervalMs, maxStalledCount\. /,
    );
  });

  it('in registerQueue options too, through the same check as forRoot', () => {
    expect(register({ retention: { dead: { agMs: 1 } } })).toThrow(InvalidTaskQueueOptionsError);
    expect(register({ retention: { dead: { agMs: 1 } } })).toThrow(
      '`retention.dead` has no key "agMs": did you mean "ageMs"?',
    );
    expect(register({ bullmq: { maxStaledCount: 2 } })).toThrow(
      '`bullmq` has no key "maxStaledCount": did you mean "maxStalledCount"?',
    );
  });

  it('leave ioredis options, cluster options and inherited keys alone', () => {
    const ioredis = {
      driver: 'bullmq',
      connection: { url: 'redis://127.0.0.1:6379', enableOfflineQueue: false, keepAlive: 1 },
    };
    expect(boot(ioredis)).not.toThrow();
    expect(
      boot({ driver: 'bullmq', connection: { host: '127.0.0.1', port: 6379, connectTimeout: 5, lazyConnect: true } }),
    ).not.toThrow();
    expect(
      boot({
        driver: 'bullmq',
        connection: { cluster: seeds, clusterOptions: { scaleReads: 'slave', slotsRefreshTimeout: 1 } },
      }),
    ).not.toThrow();
    // Only own keys count, as for JSON: an options object built on a prototype passes.
    expect(boot({ bullmq: Object.create({ inherited: true }) as object })).not.toThrow();
  });

  it('accept every nested object filled with every key it declares', () => {
    const resolved = resolveTaskQueueOptions(
      {
        backoff: { type: 'exponential', delayMs: 100, jitter: 0.1 },
        retention: { completed: { count: 5, ageMs: 1_000 }, dead: { count: 6, ageMs: 2_000 } },
        bullmq: { reconnectMaxDelayMs: 1_000, lockDurationMs: 2_000, stalledIntervalMs: 3_000, maxStalledCount: 2 },
      },
      'orders',
    );
    expect(resolved.retention).toEqual({ completed: { count: 5, ageMs: 1_000 }, dead: { count: 6, ageMs: 2_000 } });
    expect(resolved.bullmq).toEqual({
      reconnectMaxDelayMs: 1_000,
      lockDurationMs: 2_000,
      stalledIntervalMs: 3_000,
      maxStalledCount: 2,
    });
  });
});
