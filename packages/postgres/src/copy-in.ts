// COPY ... FROM STDIN as a pg "submittable" query: the rows are already in memory, so they go out in one pass.
// (The same extension point pg-cursor and pg-copy-streams use; no extra dependency.)
import type { ClientBase, Connection, Submittable } from 'pg';

/** The wire calls of pg's Connection that COPY needs (present since pg 7, absent from its typings). */
interface CopyConnection extends Connection {
  sendCopyFromChunk(chunk: Buffer): void;
  endCopyFrom(): void;
  sendCopyFail(message: string): void;
}

/** Largest CopyData message sent at once; the server accepts up to 1 GB, smaller keeps memory flat. */
const CHUNK_BYTES = 1 << 20;

/** Whether a client speaks the wire protocol itself (pg's JS client) and so can run COPY; pg-native cannot. */
export function supportsCopy(client: ClientBase): boolean {
  const connection = (client as unknown as { connection?: Partial<CopyConnection> }).connection;
  return typeof connection?.sendCopyFromChunk === 'function' && typeof connection.endCopyFrom === 'function';
}

/** Runs `sql` (a `COPY ... FROM STDIN`) with `data` as its input; resolves with the number of rows copied. */
export function copyFrom(client: ClientBase, sql: string, data: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    client.query(new CopyFromQuery(sql, data, resolve, reject));
  });
}

class CopyFromQuery implements Submittable {
  private rowCount = 0;
  private settled = false;

  constructor(
    private readonly text: string,
    private readonly data: Buffer,
    private readonly onDone: (rows: number) => void,
    private readonly onError: (err: Error) => void,
  ) {}

  submit(connection: Connection): void {
    connection.query(this.text);
  }

  handleCopyInResponse(connection: CopyConnection): void {
    for (let offset = 0; offset < this.data.length; offset += CHUNK_BYTES) {
      connection.sendCopyFromChunk(this.data.subarray(offset, offset + CHUNK_BYTES));
    }
    connection.endCopyFrom();
  }

  handleCommandComplete(message: { text?: string }): void {
    const match = /^COPY (\d+)/.exec(message.text ?? '');
    this.rowCount = match ? Number(match[1]) : 0;
  }

  handleReadyForQuery(): void {
    this.settle(() => this.onDone(this.rowCount));
  }

  handleError(err: Error): void {
    this.settle(() => this.onError(err));
  }

  // A COPY returns no rows; these exist because pg calls them on any active query.
  handleRowDescription(): void {}
  handleDataRow(): void {}
  handlePortalSuspended(): void {}
  handleEmptyQuery(): void {}
  handleCopyData(): void {}

  private settle(action: () => void): void {
    if (this.settled) return;
    this.settled = true;
    action();
  }
}
