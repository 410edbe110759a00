// What the NATS tests share: the server's URL, a connection per suite with the streams it made removed afterwards, and a wait.
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';

/** The NATS server the tests use: NATS_URL, else the local one. */
export const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';

/** A suite's JetStream: `nc` connected before its tests (failing, not skipping, when NATS is missing); `names()` streams deleted after them. */
export interface JetStreamSuite {
  /** The suite's connection. */
  readonly nc: NatsConnection;
  /** A fresh stream name and subject prefix, `<TAG>_<hex>` and `<tag>_<hex>`, deleted after the suite. */
  names(): { stream: string; prefix: string };
}

/** Registers the before/after hooks of a suite that makes streams; call it inside `describe`. */
export function jetStreamSuite(tag: string): JetStreamSuite {
  let connection: NatsConnection | undefined;
  const streams: string[] = [];
  before(async () => {
    connection = await connect({ servers: NATS_URL, timeout: 5000 });
  });
  after(async () => {
    const jsm = await connection!.jetstreamManager();
    for (const stream of streams) await jsm.streams.delete(stream).catch(() => undefined);
    await connection!.close();
  });
  return {
    get nc(): NatsConnection {
      return connection!;
    },
    names() {
      const hex = randomBytes(4).toString('hex');
      const stream = `${tag.toUpperCase()}_${hex}`;
      streams.push(stream);
      return { stream, prefix: `${tag.toLowerCase()}_${hex}` };
    },
  };
}

/** Waits until `check()` holds, polling every 50 ms; throws naming `what` after `ms`. */
export async function until(check: () => boolean, what: string, ms = 20_000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}
