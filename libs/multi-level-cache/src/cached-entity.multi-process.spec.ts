import { NodeProcess, redisUrl, uniquePrefix } from '../../../test/harness/index.js';

const FIXTURE = 'libs/multi-level-cache/src/fixtures/cached-entity.fixture.ts';

async function runInstance(namespace: string): Promise<Record<string, unknown>> {
  const child = NodeProcess.start('cached-entity', FIXTURE, {
    REDIS_URL: redisUrl(),
    NAMESPACE: namespace,
    ID: 'inv-1',
  });
  const [, json] = await child.waitFor(/RESULT (.*)\n/, 30_000);
  expect(await child.exit).toBe(0);
  return JSON.parse(json) as Record<string, unknown>;
}

describe('registered classes across processes', () => {
  it('defect 18: a process with its own registry restores a @Cached class instance written by another', async () => {
    const namespace = uniquePrefix('entity-procs');
    const writer = await runInstance(namespace);
    const reader = await runInstance(namespace);
    const same = { isInvoice: true, total: String(2n ** 70n + 1n), issued: '2026-01-01T00:00:00.000Z' };
    expect(writer).toStrictEqual({ loads: 1, l2Hits: 0, ...same });
    expect(reader).toStrictEqual({ loads: 0, l2Hits: 1, ...same });
  });
});
