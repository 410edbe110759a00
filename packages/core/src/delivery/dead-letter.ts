// The dead-letter file: `{rootLogDir}/dead_letter.jsonl`, one line per event a sink refused for good, with the reason.
import { appendFileSync, closeSync, fstatSync, openSync } from 'node:fs';
import { join } from 'node:path';
import type { AuditEvent } from '../event';
import { ensurePrivateDir, readAt } from '../files/fs-util';

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

/**
 * Reads the dead letters appended since it was created, a chunk at a time: a standby logger
 * learns which of its acknowledged events the lease holder dead-lettered instead of delivering.
 */
export class DeadLetterTail {
  private offset: number;

  constructor(private readonly path: string | undefined) {
    this.offset = sizeOf(path);
  }

  /** The complete lines appended since the last call (a line still being written waits for the next). */
  read(): DeadLetter[] {
    const size = sizeOf(this.path);
    if (this.path === undefined || size <= this.offset) return [];
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      return [];
    }
    let text: string;
    try {
      text = readAt(fd, this.offset, Math.min(size, fstatSync(fd).size) - this.offset).toString('utf8');
    } finally {
      closeSync(fd);
    }
    const end = text.lastIndexOf('\n');
    if (end < 0) return [];
    this.offset += Buffer.byteLength(text.slice(0, end + 1));
    const letters: DeadLetter[] = [];
    for (const line of text.slice(0, end).split('\n')) {
      try {
        letters.push(JSON.parse(line) as DeadLetter);
      } catch {
        // not a dead letter: nothing to refuse
      }
    }
    return letters;
  }
}

function sizeOf(path: string | undefined): number {
  if (path === undefined) return 0;
  try {
    const fd = openSync(path, 'r');
    try {
      return fstatSync(fd).size;
    } finally {
      closeSync(fd);
    }
  } catch {
    return 0;
  }
}
