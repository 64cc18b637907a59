import { DemoConfig, DemoConfigError } from './demo-config.js';

describe('DemoConfig.fromEnv', () => {
  it('defaults to the embedded mode with three local upstreams and a generated admin token', () => {
    const config = DemoConfig.fromEnv({});
    expect(config.mode).toBe('embedded');
    expect(config.port).toBe(3000);
    expect(config.upstreams.map((u) => `${u.host}:${u.port}`)).toEqual([
      '127.0.0.1:4001',
      '127.0.0.1:4002',
      '127.0.0.1:4003',
    ]);
    expect(config.adminTokenGenerated).toBe(true);
    expect(config.adminToken).toMatch(/^[0-9a-f]{32}$/);
    expect(config.workers).toBe(true);
  });

  it('reads the distributed mode, named upstreams and the other settings', () => {
    const config = DemoConfig.fromEnv({
      REDIS_URL: 'redis://10.0.0.5:6380',
      UPSTREAMS: 'a=svc-a:8080, 10.0.0.9:9090',
      ADMIN_TOKEN: 'a-long-enough-admin-token',
      WORKERS: 'false',
      KEY_PREFIX: '{shop}',
      CACHE_TTL_MS: '5000',
    });
    expect(config.mode).toBe('distributed');
    expect(config.upstreams).toEqual([
      { id: 'a', host: 'svc-a', port: 8080 },
      { id: '10.0.0.9:9090', host: '10.0.0.9', port: 9090 },
    ]);
    expect(config).toMatchObject({
      adminToken: 'a-long-enough-admin-token',
      adminTokenGenerated: false,
      workers: false,
      keyPrefix: '{shop}',
    });
    expect(config.cacheTtlMs).toBe(5000);
  });

  it('reads the scaled-out mode and puts a hash tag on the queue prefix', () => {
    const config = DemoConfig.fromEnv({ REDIS_CLUSTER: '10.0.0.1:7000,10.0.0.2:7001' });
    expect(config.mode).toBe('scaled-out');
    expect(config.redisCluster).toEqual([
      { host: '10.0.0.1', port: 7000 },
      { host: '10.0.0.2', port: 7001 },
    ]);
    expect(config.queuePrefix).toBe('{demo}');
    expect(DemoConfig.fromEnv({ REDIS_CLUSTER: 'h:1', KEY_PREFIX: '{shop}' }).queuePrefix).toBe('{shop}');
    expect(DemoConfig.fromEnv({ REDIS_URL: 'redis://h:1' }).queuePrefix).toBe('demo');
  });

  it.each([
    [{ REDIS_URL: 'redis://h:1', REDIS_CLUSTER: 'h:2' }, /REDIS_URL and REDIS_CLUSTER are both set/],
    [{ REDIS_CLUSTER: 'h' }, /REDIS_CLUSTER entry "h" is not valid: expected host:port/],
    [{ PORT: '70000' }, /PORT=70000 is not valid: expected an integer from 0 to 65535/],
    [{ UPSTREAMS: 'localhost' }, /UPSTREAMS entry "localhost" is not valid: expected host:port/],
    [{ UPSTREAMS: 'a:0' }, /UPSTREAMS entry "a:0"/],
    [{ REDIS_URL: 'localhost:6379' }, /REDIS_URL=localhost:6379 is not valid: expected redis:\/\/host:port/],
    [{ WORKERS: 'maybe' }, /WORKERS=maybe is not valid: use true or false/],
    [{ KEY_PREFIX: 'has space' }, /KEY_PREFIX=has space is not valid/],
  ])('refuses %o with a message naming the variable', (env, message) => {
    expect(() => DemoConfig.fromEnv(env)).toThrow(DemoConfigError);
    expect(() => DemoConfig.fromEnv(env)).toThrow(message);
  });

  it('reads the limits, the rate limit and the session settings', () => {
    const config = DemoConfig.fromEnv({
      REQUEST_TIMEOUT_MS: '2000',
      KEEP_ALIVE_TIMEOUT_MS: '1500',
      MAX_CONNECTIONS: '64',
      ORDER_RATE_LIMIT: '10',
      SESSION_SECRET: 's'.repeat(32),
      COOKIE_SECURE: 'true',
      HOST: '0.0.0.0',
    });
    expect(config).toMatchObject({
      requestTimeoutMs: 2000,
      keepAliveTimeoutMs: 1500,
      maxConnections: 64,
      orderRateLimit: 10,
      sessionSecret: 's'.repeat(32),
      cookieSecure: true,
      host: '0.0.0.0',
    });
    expect(DemoConfig.fromEnv({})).toMatchObject({
      orderRateLimit: 120,
      cookieSecure: false,
      sessionSecret: undefined,
    });
  });

  it.each([
    [{ ADMIN_TOKEN: 'short' }, /ADMIN_TOKEN is too short \(5 characters\): use at least 16/],
    [{ SESSION_SECRET: 'x'.repeat(31) }, /SESSION_SECRET is too short \(31 characters\)/],
    [{ HOST: 'a b' }, /HOST=a b is not valid/],
    [{ HOST: 'http://x' }, /HOST=http:\/\/x is not valid/],
    [{ REQUEST_TIMEOUT_MS: '0' }, /REQUEST_TIMEOUT_MS=0 is not valid: expected an integer from 100/],
    [{ ORDER_RATE_LIMIT: 'lots' }, /ORDER_RATE_LIMIT=lots is not valid/],
    [{ COOKIE_SECURE: 'maybe' }, /COOKIE_SECURE=maybe is not valid: use true or false/],
  ])('refuses %o naming the variable', (env, message) => {
    expect(() => DemoConfig.fromEnv(env)).toThrow(message);
  });
});
