import { InvalidTaskQueueOptionsError } from './errors/invalid-task-queue-options.error.js';
import { hashTag, resolveTaskQueueOptions } from './task-queue.options.js';

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
      new RegExp(`option ${option.replace(/[[\]]/g, '\\$&')}:`),
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
