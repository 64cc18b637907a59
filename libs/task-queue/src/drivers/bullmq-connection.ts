// @internal Connection handling of the BullMQ driver: bounded closes and timeouts that hold when Redis is away.
/** How long shutdown waits for BullMQ to close on its own, past the deadline, before it cuts the connections. */
export const CLOSE_GRACE_MS = 500;
/**
 * ioredis ends a socket and destroys it only after `disconnectTimeout` (2 s by default) when the peer does not
 * answer; a dead Redis never does, and the pending timer holds the process that long after shutdown.
 */
export const SOCKET_CLOSE = { disconnectTimeout: CLOSE_GRACE_MS };

/** The module always connects through ioredis (a Redis or a Cluster client), which has eval. */
export type IoRedisEval = { eval(...args: (string | number)[]): Promise<unknown> };

/**
 * Ends a BullMQ backend's sockets at once and stops ioredis reconnecting, so nothing keeps the process alive.
 * BullMQ's own `disconnect()` first awaits the connection being ready, which never happens while Redis is away,
 * so this reaches for the clients themselves (BullMQ 6 internals, checked by the shutdown spec).
 */
export function disconnectNow(backend: unknown): void {
  type Client = { disconnect(): void; flushQueue?(error: Error): void };
  type Connection = { _client?: Client } | undefined;
  const { connection, blockingConnection } = backend as { connection?: Connection; blockingConnection?: Connection };
  for (const c of [connection, blockingConnection]) {
    try {
      c?._client?.disconnect();
      // A blocking command sent before Redis vanished waits in ioredis's queue for a reconnect that will not
      // come, and BullMQ's watchdog timer for it holds the process for seconds: reject it now.
      c?._client?.flushQueue?.(new Error('Connection is closed'));
    } catch {
      // Already ended.
    }
  }
}

/** Whether `promise` settled within `ms` (its rejection counts as settled and is dropped). */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(resolve, ms, false)));
  try {
    return await Promise.race([
      promise.then(
        () => true,
        () => true,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
