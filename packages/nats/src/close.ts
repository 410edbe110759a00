// Closing a NATS connection for good: drain, but never wait on it forever.
import type { NatsConnection } from 'nats';

/**
 * Drains (flushes what is pending) for at most `drainMs`, then closes. A drain can hang behind a
 * request that timed out or a server that went away; the client's ping timer would then keep the
 * process alive for minutes.
 */
export async function closeConnection(connection: NatsConnection, drainMs = 3000): Promise<void> {
  if (connection.isClosed()) return;
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, drainMs);
    timer.unref();
  });
  await Promise.race([connection.drain().catch(() => undefined), timedOut]);
  clearTimeout(timer);
  if (!connection.isClosed()) await connection.close().catch(() => undefined);
}
