import type { INestApplication } from '@nestjs/common';
import { redisUrl, uniquePrefix } from '../../../test/harness/index.js';
import { startUpstreamNode } from './bootstrap.js';
import { InMemoryProductRepository } from './products/in-memory-product.repository.js';
import type { ProductRepository } from './products/product.repository.js';
import { RedisProductRepository } from './products/redis-product.repository.js';

async function call(base: string, method: string, path: string, body?: unknown) {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

describe.each([
  ['in-memory', () => new InMemoryProductRepository()],
  ['redis', () => new RedisProductRepository(redisUrl(), uniquePrefix('upstream'))],
])('upstream nodes sharing a %s repository', (_label, makeRepository: () => ProductRepository) => {
  let repository: ProductRepository;
  let nodes: INestApplication[];
  let bases: string[];

  beforeAll(async () => {
    repository = makeRepository();
    nodes = [];
    for (const nodeId of ['a', 'b'])
      nodes.push(await startUpstreamNode({ nodeId, port: 0, repository, logger: false }));
    bases = nodes.map((app) => {
      const address = app.getHttpServer().address() as { port: number };
      return `http://127.0.0.1:${address.port}`;
    });
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.close()));
    await repository.close();
  });

  it('serves the seeded catalog and 404s unknown ids with a clear message', async () => {
    const found = await call(bases[0], 'GET', '/products/7');
    expect(found.status).toBe(200);
    expect(found.body).toMatchObject({ id: '7', name: 'Product 7', priceCents: 700, stock: 1000 });
    const missing = await call(bases[0], 'GET', '/products/999');
    expect(missing.status).toBe(404);
    expect(missing.body.message).toMatch(/ids are 1\.\.100/);
  });

  it('makes a write on one node visible on the other, keeping fields it did not change', async () => {
    const before = await call(bases[1], 'GET', '/products/8');
    const written = await call(bases[0], 'PUT', '/products/8', { priceCents: 42 });
    expect(written.status).toBe(200);
    const after = await call(bases[1], 'GET', '/products/8');
    expect(after.body).toMatchObject({ id: '8', name: 'Product 8', priceCents: 42, stock: 1000 });
    expect(after.body.version).toBe((before.body.version as number) + 1);
  });

  it('rejects invalid writes with 400 naming the field', async () => {
    const bad = await call(bases[0], 'PUT', '/products/8', { priceCents: -1, extra: true });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body.message)).toMatch(/priceCents/);
    expect(JSON.stringify(bad.body.message)).toMatch(/extra/);
  });

  it('reserves stock once per order, whichever node a retry reaches', async () => {
    const reservation = { orderId: `o-${Math.random()}`, productId: '9', quantity: 3 };
    const first = await call(bases[0], 'POST', '/inventory/reservations', reservation);
    const retry = await call(bases[1], 'POST', '/inventory/reservations', reservation);
    expect(first.body).toMatchObject({ stock: 997, duplicate: false });
    expect(retry.body).toMatchObject({ stock: 997, duplicate: true });
    const tooMany = await call(bases[0], 'POST', '/inventory/reservations', {
      ...reservation,
      orderId: 'x',
      quantity: 1000,
    });
    expect(tooMany.status).toBe(409);
  });

  it('injects failures and latency set at run time', async () => {
    const set = await call(bases[1], 'PUT', '/faults', { failureRate: 1 });
    expect(set.body).toEqual({ latencyMs: 0, jitterMs: 0, failureRate: 1, pathPrefix: '' });
    expect((await call(bases[1], 'GET', '/products/1')).status).toBe(503);
    expect((await call(bases[0], 'GET', '/products/1')).status).toBe(200);
    await call(bases[1], 'PUT', '/faults', { failureRate: 0, latencyMs: 150 });
    const started = Date.now();
    expect((await call(bases[1], 'GET', '/products/1')).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    await call(bases[1], 'PUT', '/faults', { failureRate: 1, pathPrefix: '/inventory' });
    expect((await call(bases[1], 'GET', '/products/1')).status).toBe(200);
    expect((await call(bases[1], 'POST', '/inventory/reservations', {})).status).toBe(503);
    await call(bases[1], 'PUT', '/faults', { latencyMs: 0, failureRate: 0, pathPrefix: '' });
  });
});
