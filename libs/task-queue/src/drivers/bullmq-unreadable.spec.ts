import fc from 'fast-check';
import { Redis } from 'ioredis';
import { propertyParameters, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import type { IoRedisEval } from './bullmq-connection.js';
import { repairUnreadableJob, UNREADABLE_FIELD, unreadableFields } from './bullmq-unreadable.js';

describe('repairUnreadableJob', () => {
  let redis: Redis;
  // The module's own narrow view of an ioredis client (eval with string arguments).
  const evalClient = () => redis as unknown as IoRedisEval;
  beforeAll(() => {
    redis = new Redis(redisUrl());
  });
  afterAll(async () => {
    await redis.quit();
  });
  const key = () => `${uniquePrefix('tq-unreadable')}:q:1`;

  it('finds the fields that are not JSON', () => {
    expect(unreadableFields({ data: '{"a":1}', opts: '{}' })).toEqual({});
    expect(unreadableFields({ data: '{"broken":', opts: 'nope', name: 'x' })).toEqual({
      data: '{"broken":',
      opts: 'nope',
    });
    expect(unreadableFields({ name: 'x' })).toEqual({});
  });

  it('makes data a JSON string of the original text and opts {}, keeps the original opts, and marks the job', async () => {
    const k = key();
    await redis.hset(k, { name: 'echo', data: '{"broken":', opts: '<opts>' });
    expect(await repairUnreadableJob(evalClient(), k, { data: '{"broken":', opts: '<opts>' }, 'why')).toBe(2);
    const hash = await redis.hgetall(k);
    expect(JSON.parse(hash.data)).toBe('{"broken":');
    expect(hash.opts).toBe('{}');
    expect(hash.nsUnreadableOpts).toBe('<opts>');
    expect(hash[UNREADABLE_FIELD]).toBe('why');
    expect(hash.name).toBe('echo');
  });

  it('leaves a field that was rewritten since it was read, and marks nothing when nothing was replaced', async () => {
    const k = key();
    await redis.hset(k, { data: '{"fixed":true}' });
    expect(await repairUnreadableJob(evalClient(), k, { data: '{"broken":' }, 'why')).toBe(0);
    expect(await redis.hgetall(k)).toEqual({ data: '{"fixed":true}' });
    expect(await repairUnreadableJob(evalClient(), k, {}, 'why')).toBe(0);
  });

  it('loses nothing: any stored text reads back exactly as the payload', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'binary', maxLength: 200 }), async (text) => {
        const k = key();
        await redis.hset(k, 'data', text);
        const stored = (await redis.hget(k, 'data')) as string;
        await repairUnreadableJob(evalClient(), k, { data: stored }, 'why');
        expect(JSON.parse((await redis.hget(k, 'data')) as string)).toBe(stored);
        await redis.del(k);
      }),
      propertyParameters(100),
    );
  });
});
