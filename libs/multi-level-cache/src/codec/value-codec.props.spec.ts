import { Test, type TestingModule } from '@nestjs/testing';
import fc from 'fast-check';
import { propertyParameters, redisUrl, uniquePrefix } from '../../../../test/harness/index.js';
import { CacheSerializationError } from '../errors/cache-serialization.error.js';
import { cacheableValue, DtoA, firstDifference, objectKey, objectOf } from '../fixtures/cacheable-value.arbitrary.js';
import { MultiLevelCacheModule } from '../multi-level-cache.module.js';
import { MultiLevelCache } from '../multi-level-cache.service.js';
import { decodeValue, encodeValue } from './value-codec.js';

/** What a path segment of `CacheSerializationError.path` looks like for a key or an index. */
const segment = (s: string | number): string =>
  typeof s === 'number' ? `[${s}]` : /^[A-Za-z_$][\w$]*$/.test(s) ? `.${s}` : `[${JSON.stringify(s)}]`;

/** Things storage must refuse, with the path to them. */
const poison: fc.Arbitrary<unknown> = fc
  .constantFrom<() => unknown>(
    () => () => 1,
    () => Symbol('s'),
    () => new DtoA(1),
    () => ({ [Symbol('k')]: 1 }),
    () => new (class Subclassed extends Map {})(),
    () => new WeakMap(),
    () => Promise.resolve(1),
  )
  .map((make) => make());

/** A step down from a container to the poison: an object key (with siblings) or an array index (with fill). */
type Step = { key: string; siblings: [string, unknown][] } | { index: number; fill: unknown[] };
const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ key: objectKey, siblings: fc.array(fc.tuple(objectKey, cacheableValue()), { maxLength: 2 }) }),
  fc.record({ index: fc.nat(2), fill: fc.array(cacheableValue(), { minLength: 2, maxLength: 2 }) }),
);

/** A value holding `poison` at the end of `steps`, and the path the error must name. */
function plant(bad: unknown, steps: readonly Step[]): { value: unknown; path: string } {
  let value = bad;
  for (let i = steps.length - 1; i >= 0; i--) {
    const s = steps[i];
    if ('key' in s) value = objectOf([...s.siblings.filter(([k]) => k !== s.key), [s.key, value]], Object.prototype);
    else value = [...s.fill.slice(0, s.index), value];
  }
  return { value, path: `$${steps.map((s) => segment('key' in s ? s.key : s.index)).join('')}` };
}

describe('value codec properties', () => {
  it('round-trips every supported value unchanged, types and prototypes included (defect 14 kind)', () => {
    fc.assert(
      fc.property(cacheableValue(), (value) => {
        const text = encodeValue(value);
        expect(firstDifference(decodeValue(text), value)).toBeUndefined();
        // Deterministic: the same value, the same text.
        expect(encodeValue(value)).toBe(text);
      }),
      propertyParameters(1_000),
    );
  });

  it('refuses what it cannot restore with CacheSerializationError naming the path, never altering it', () => {
    fc.assert(
      fc.property(poison, fc.array(step, { maxLength: 4 }), (bad, steps) => {
        const { value, path } = plant(bad, steps);
        let error: unknown;
        try {
          encodeValue(value);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(CacheSerializationError);
        // The siblings may hold nothing unencodable, so the first failure is the planted one.
        expect((error as CacheSerializationError).path).toBe(path);
      }),
      propertyParameters(300),
    );
  });
});

describe('value codec properties through both tiers', () => {
  const namespace = uniquePrefix('codec-props');
  const apps: TestingModule[] = [];
  let writer: MultiLevelCache;
  let reader: MultiLevelCache;

  beforeAll(async () => {
    for (let i = 0; i < 2; i++) {
      const app = await Test.createTestingModule({
        imports: [MultiLevelCacheModule.forRoot({ namespace, l2: { url: redisUrl() } })],
      }).compile();
      await app.init();
      apps.push(app);
    }
    [writer, reader] = apps.map((app) => app.get(MultiLevelCache));
  });
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  it('gives back the value from L1 (same reference) and from Redis on another instance (equal, same types)', async () => {
    let n = 0;
    await fc.assert(
      fc.asyncProperty(cacheableValue(), async (value) => {
        const key = `v${n++}`;
        await writer.set(key, value);
        expect(await writer.get(key)).toBe(value);
        const l2Hits = reader.stats().hits.l2;
        const fromRedis = await reader.get(key);
        expect(reader.stats().hits.l2).toBe(l2Hits + 1);
        expect(firstDifference(fromRedis, value)).toBeUndefined();
      }),
      propertyParameters(200),
    );
    expect(writer.stats().l2Errors + reader.stats().l2Errors).toBe(0);
  });
});
