// The delivery outbox for loggers that write no JSONL journal (json or csv only): `{rootLogDir}/.delivery/outbox.jsonl`.
import { closeSync, openSync } from 'node:fs';
import { join } from 'node:path';
import { AuditWriteError } from '../errors';
import { ensurePrivateDir, writeAll } from '../files/fs-util';

/** Path of the outbox under a log directory. */
export function outboxPath(rootLogDir: string): string {
  return join(rootLogDir, '.delivery', 'outbox.jsonl');
}

/**
 * Appends each event's JSON line, synchronously, before logEvent returns: the same line the
 * journal would hold, so the delivery engine reads both alike. It is written in the same turn
 * as the local files, under the log directory's lock, so its lines are in seq order.
 */
export class OutboxWriter {
  private fd: number;

  constructor(readonly path: string) {
    ensurePrivateDir(join(path, '..'));
    this.fd = openSync(path, 'a', 0o600);
  }

  /** Appends one line (no newline in `json`). */
  append(json: string): void {
    try {
      writeAll(this.fd, Buffer.from(json + '\n'));
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
  }

  /** Closes the file. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }
}
