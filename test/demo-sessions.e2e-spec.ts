import { RedisServer, uniquePrefix } from './harness/index.js';
import { type GatewayHandle, http, startGateway, startUpstreams, stopStack } from './support/demo-stack.js';

const COOKIE = 'cart_session';

/** The session cookie a response set, as a `Cookie` request header value. */
function sessionCookie(headers: Headers): string {
  const cookie = headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`));
  if (!cookie) throw new Error(`no ${COOKIE} cookie in ${JSON.stringify(headers.getSetCookie())}`);
  return cookie.split(';')[0];
}

const item = (productId: string, quantity = 1) => ({ productId, quantity });

describe('demo gateway: session cart and rate limits, embedded', () => {
  let upstreams: Awaited<ReturnType<typeof startUpstreams>>;
  let gateway: GatewayHandle;

  beforeAll(async () => {
    upstreams = await startUpstreams({ count: 2 });
    gateway = await startGateway({ UPSTREAMS: upstreams.list, REDIS_URL: '', ORDER_RATE_LIMIT: '3' });
  }, 90_000);

  afterAll(async () => {
    await stopStack([gateway], upstreams);
  });

  it('keeps a cart in a signed HttpOnly SameSite=Lax session cookie, and checks it out into an order', async () => {
    const empty = await http(gateway.url, 'GET', '/cart');
    expect(empty.body).toEqual({ items: [], version: 0 });
    expect(empty.headers.getSetCookie()).toEqual([]);

    const added = await http(gateway.url, 'POST', '/cart/items', { body: item('12', 2) });
    expect(added.status).toBe(200);
    const setCookie = added.headers.getSetCookie().find((c) => c.startsWith(`${COOKIE}=`))!;
    expect(setCookie).toMatch(/HttpOnly/i);
    expect(setCookie).toMatch(/SameSite=Lax/i);
    // Scoped to the cart: no other route reads or makes a session.
    expect(setCookie).toMatch(/Path=\/cart(;|$)/);
    expect((await http(gateway.url, 'GET', '/products/12')).headers.getSetCookie()).toEqual([]);
    const cookie = sessionCookie(added.headers);
    const headers = { cookie };

    await http(gateway.url, 'POST', '/cart/items', { body: item('12', 1), headers });
    await http(gateway.url, 'POST', '/cart/items', { body: item('14', 1), headers });
    await http(gateway.url, 'DELETE', '/cart/items/14', { headers });
    const cart = await http(gateway.url, 'GET', '/cart', { headers });
    expect(cart.body.items).toEqual([item('12', 3)]);

    const tampered = cookie.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a'));
    expect((await http(gateway.url, 'GET', '/cart', { headers: { cookie: tampered } })).body.items).toEqual([]);

    const unknownProduct = await http(gateway.url, 'POST', '/cart/items', { body: item('999999'), headers });
    expect(unknownProduct.status).toBe(404);
    const tooMany = await http(gateway.url, 'POST', '/cart/items', { body: item('12', 98), headers });
    expect(tooMany.status).toBe(409);
    expect((await http(gateway.url, 'POST', '/cart/items', { body: item('12', null as never), headers })).status).toBe(
      400,
    );

    const checkout = await http(gateway.url, 'POST', '/cart/checkout', { body: { email: 'ada@example.com' }, headers });
    expect(checkout.status).toBe(202);
    expect(checkout.body.items).toEqual([item('12', 3)]);
    expect((await http(gateway.url, 'GET', '/cart', { headers })).body.items).toEqual([]);
    const order = await http(gateway.url, 'GET', `/orders/${checkout.body.id}`);
    expect(order.status).toBe(200);
    const emptyCheckout = await http(gateway.url, 'POST', '/cart/checkout', {
      body: { email: 'ada@example.com' },
      headers,
    });
    expect(emptyCheckout.status).toBe(400);
  });

  it('limits orders per client with 429 and Retry-After', async () => {
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 5; i++) {
      const res = await http(gateway.url, 'POST', '/orders', {
        body: { email: 'rate@example.com', items: [item('2')] },
      });
      statuses.push(res.status);
      if (res.status === 429) retryAfter = res.headers.get('retry-after');
    }
    expect(statuses).toEqual([202, 202, 202, 429, 429]);
    expect(retryAfter).toMatch(/^\d+$/);
    expect((await http(gateway.url, 'GET', '/products/2')).status).toBe(200);
  });
});

/** Two gateways on one Redis: any gateway serves any request of a session, and one limit holds across them. */
describe('demo gateway: session cart and rate limits, distributed', () => {
  let redis: RedisServer;
  let upstreams: Awaited<ReturnType<typeof startUpstreams>>;
  let a: GatewayHandle;
  let b: GatewayHandle;
  let env: Record<string, string>;

  beforeAll(async () => {
    redis = await RedisServer.start();
    upstreams = await startUpstreams({ count: 2 });
    env = { UPSTREAMS: upstreams.list, REDIS_URL: redis.url, KEY_PREFIX: uniquePrefix('carts'), ORDER_RATE_LIMIT: '4' };
    [a, b] = await Promise.all([
      startGateway({ ...env, INSTANCE_ID: 'A' }),
      startGateway({ ...env, INSTANCE_ID: 'B' }),
    ]);
  }, 90_000);

  afterAll(async () => {
    await stopStack([a, b], upstreams);
    await redis.stop();
  });

  it('serves one cart from either gateway, loses no concurrent update, and survives a gateway SIGKILL', async () => {
    const first = await http(a.url, 'POST', '/cart/items', { body: item('1') });
    const headers = { cookie: sessionCookie(first.headers) };
    expect((await http(b.url, 'GET', '/cart', { headers })).body.items).toEqual([item('1')]);

    // 30 concurrent additions split over both gateways: a read-modify-write of the session would lose some.
    const adds = Array.from({ length: 30 }, (_, i) =>
      http(i % 2 === 0 ? a.url : b.url, 'POST', '/cart/items', { body: item(String(2 + (i % 10))), headers }),
    );
    expect((await Promise.all(adds)).map((r) => r.status)).toEqual(Array(30).fill(200));
    const cart = (await http(a.url, 'GET', '/cart', { headers })).body;
    expect(cart.items).toEqual([item('1'), ...Array.from({ length: 10 }, (_, i) => item(String(2 + i), 3))]);

    await a.process.kill();
    a = await startGateway({ ...env, INSTANCE_ID: 'A2' });
    expect((await http(a.url, 'GET', '/cart', { headers })).body.items).toEqual(cart.items);

    const checkout = await http(b.url, 'POST', '/cart/checkout', { body: { email: 'ada@example.com' }, headers });
    expect(checkout.status).toBe(202);
    expect(checkout.body.items).toEqual(cart.items);
    expect((await http(a.url, 'GET', '/cart', { headers })).body.items).toEqual([]);
  });

  it('counts one rate limit across gateways', async () => {
    const order = { email: 'rate@example.com', items: [item('3')] };
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) {
      statuses.push((await http(i % 2 === 0 ? a.url : b.url, 'POST', '/orders', { body: order })).status);
    }
    // The limit is 4 a minute per client and route, over both gateways.
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
  });
});
