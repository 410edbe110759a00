// The dead-letter file: `{rootLogDir}/dead_letter.jsonl`, one line per event a sink refused for good, with the reason.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../event';
import { ensurePrivateDir } from '../files/fs-util';

/** One line of the dead-letter file. */
export interface DeadLetter {
  /** Sink that refused the event. */
  sink: string;
  /** Why, in the sink's words (HTTP status and body, SQL error, "gave up after N attempts: ..."). */
  reason: string;
  /** Attempts made. */
  attempts: number;
  /** When it was dead-lettered (ISO 8601). */
  failed_at: string;
  /** The event, when it could be read. */
  event?: AuditEvent;
  /** The journal line, when it could not be parsed as an event. */
  line?: string;
}

/** Name of the dead-letter file in the log directory. */
export const DEAD_LETTER_FILE = 'dead_letter.jsonl';

/** Appends dead letters; without a log directory (format 'none') they are only counted and emitted. */
export class DeadLetterFile {
  /** Path of the file, or undefined without a log directory. */
  readonly path: string | undefined;

  constructor(rootLogDir: string | undefined) {
    this.path = rootLogDir === undefined ? undefined : join(rootLogDir, DEAD_LETTER_FILE);
  }

  /** Writes the letters in one append (one write call, so lines of concurrent writers do not interleave). */
  write(letters: readonly DeadLetter[]): void {
    if (this.path === undefined || letters.length === 0) return;
    ensurePrivateDir(join(this.path, '..'));
    appendFileSync(this.path, letters.map((letter) => JSON.stringify(letter) + '\n').join(''), { mode: 0o600 });
  }
}
