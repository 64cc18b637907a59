import { InvalidCacheOptionsError } from './errors/invalid-cache-options.error.js';
import { resolveOptions } from './multi-level-cache.options.js';

describe('MultiLevelCacheModule options: unknown keys', () => {
  it('fail naming the key, with the nearest known one when it looks like a typo', () => {
    const typo = () => resolveOptions({ tll: 5_000 } as never);
    expect(typo).toThrow(InvalidCacheOptionsError);
    expect(typo).toThrow(/MultiLevelCacheModule has no option `tll`: did you mean `ttl`\? Known options: name, /);
    expect(() => resolveOptions({ softTimeout: 50 } as never)).toThrow(/did you mean `softTimeoutMs`\?/);
    expect(() => resolveOptions({ redisUrl: 'redis://x' } as never)).toThrow(/no option `redisUrl`\. Known options:/);
  });

  it('accept every known key', () => {
    expect(() =>
      resolveOptions({
        name: 'users',
        namespace: 'users',
        ttl: 1_000,
        l1: { maxEntries: 10 },
        l2: false,
        nullTtl: 1_000,
        jitter: 0.1,
        grace: 1_000,
        failSafeMaxMs: 1_000,
        softTimeoutMs: 50,
        refreshAhead: 0.5,
        isGlobal: true,
      } as never),
    ).not.toThrow();
  });
});
