import { parseOrder } from './order.js';

const order = {
  id: '0b1e4b8e-8d5f-4c4e-9a1c-1b2c3d4e5f60',
  email: 'a@b.co',
  items: [{ productId: '1', quantity: 2 }],
  createdAt: '2026-12-01T00:00:00.000Z',
  tasks: [{ id: '7', name: 'reserve-stock' }],
};

describe('parseOrder', () => {
  it('reads an order record back', () => {
    expect(parseOrder(JSON.stringify(order))).toEqual(order);
    expect(parseOrder(JSON.stringify({ ...order, requestDigest: 'abc' }))?.requestDigest).toBe('abc');
  });

  it.each([
    ['not JSON', '{"id": not json'],
    ['not an object', '"order"'],
    ['null', 'null'],
    ['an array', '[]'],
    ['no tasks', JSON.stringify({ ...order, tasks: undefined })],
    ['tasks not an array', JSON.stringify({ ...order, tasks: 'x' })],
    ['a task without a name', JSON.stringify({ ...order, tasks: [{ id: '1' }] })],
    ['an item with a fractional quantity', JSON.stringify({ ...order, items: [{ productId: '1', quantity: 1.5 }] })],
    ['a null item', JSON.stringify({ ...order, items: [null] })],
    ['a numeric id', JSON.stringify({ ...order, id: 7 })],
    ['a non-string digest', JSON.stringify({ ...order, requestDigest: 5 })],
  ])('treats a record with %s as unreadable', (_case, raw) => {
    expect(parseOrder(raw)).toBeUndefined();
  });
});
