// Borrowing a pool client for one piece of work, under a deadline that closes its connection when it passes.
import type { Pool, PoolClient } from 'pg';
import { sqlStateOf } from './errors';

/**
 * Runs `work` with a client of `pool`. While borrowed, the client has an 'error' listener (pg
 * emits a dying connection's error there, and without one the process would end). When the
 * deadline passes the connection is closed, which stops the statement on the server; after a
 * failure without a SQLSTATE (a network error) the connection is closed rather than reused.
 */
export async function withClient<T>(pool: Pool, deadline: AbortSignal, work: (client: PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  client.on('error', ignore);
  const release = releaser(client);
  let fault: Error | undefined;
  const onAbort = () => release(new Error('deadline passed'));
  deadline.addEventListener('abort', onAbort, { once: true });
  try {
    if (deadline.aborted) throw deadline.reason;
    return await work(client);
  } catch (err) {
    fault = err instanceof Error ? err : new Error(String(err));
    throw err;
  } finally {
    deadline.removeEventListener('abort', onAbort);
    client.off('error', ignore);
    release(fault && !sqlStateOf(fault) ? fault : undefined);
  }
}

/** Resolves or rejects with `work`, or rejects as soon as `signal` aborts (leaving `work` to finish unobserved). */
export function untilAborted<T>(work: Promise<T>, signal: AbortSignal): Promise<T> {
  work.catch(ignore);
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    work.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
  });
}

/** Returns a client to the pool once; with an error, the pool closes its connection instead of reusing it. */
function releaser(client: PoolClient): (err?: Error) => void {
  let released = false;
  return (err) => {
    if (released) return;
    released = true;
    client.release(err ?? false);
    if (err) (client as unknown as { connection?: { stream?: { destroy(): void } } }).connection?.stream?.destroy();
  };
}

function ignore(): void {}
