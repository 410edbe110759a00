// The delivery outbox for loggers that write no JSONL journal (json or csv only): `{rootLogDir}/.delivery/outbox.jsonl`,
// rotated into `outbox.<first seq>.jsonl` segments that are deleted once every sink's cursor has left them.
import { closeSync, fstatSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { AuditWriteError } from '../errors';
import { ensurePrivateDir, lastLineBefore, readAt, writeAll } from '../files/fs-util';

const SEGMENT = /^outbox\.(\d{16})\.jsonl$/;

/** Path of the outbox under a log directory. */
export function outboxPath(rootLogDir: string): string {
  return join(rootLogDir, '.delivery', 'outbox.jsonl');
}

/** The outbox's files, oldest first, the live one last (a SegmentLister). */
export function outboxFiles(dir: string): string[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return [...names.filter((n) => SEGMENT.test(n)).sort(), 'outbox.jsonl'].map((n) => join(dir, n));
}

/**
 * Appends each event's JSON line, synchronously, before logEvent returns: the line the journal
 * would hold, so the engine reads both alike. It runs in the same turn as the local files, under
 * the log directory's lock, so lines are in seq order and a rotation never races an append.
 */
export class OutboxWriter {
  private fd = -1;
  private ino = -1;
  private size = 0;
  private readonly dir: string;

  constructor(readonly path: string, private readonly maxBytes: number = 64 * 1024 * 1024) {
    this.dir = join(path, '..');
    ensurePrivateDir(this.dir);
    this.reopen();
  }

  /** Appends one line (no newline in `json`), rotating first when the file is full. */
  append(json: string): void {
    try {
      if (statSync(this.path).ino !== this.ino) this.reopen(); // another process rotated it
    } catch {
      this.reopen();
    }
    if (this.size >= this.maxBytes) this.rotate();
    const data = Buffer.from(json + '\n');
    try {
      writeAll(this.fd, data);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    this.size += data.length;
  }

  /** Closes the file. */
  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
  }

  private reopen(): void {
    this.close();
    this.fd = openSync(this.path, 'a+', 0o600);
    const stat = fstatSync(this.fd);
    this.ino = stat.ino;
    this.size = stat.size;
  }

  /** Closes the live file as a segment named after its first seq, starts a new one, and deletes segments no cursor needs. */
  private rotate(): void {
    const first = /"seq":(\d+)/.exec(readAt(this.fd, 0, 200).toString('utf8'))?.[1];
    if (first === undefined) return;
    renameSync(this.path, join(this.dir, `outbox.${first.padStart(16, '0')}.jsonl`));
    this.reopen();
    this.prune();
  }

  /** A closed segment can go once every cursor in the directory is past its last event (and in another file). */
  private prune(): void {
    const cursors = readCursors(this.dir);
    if (cursors.length === 0) return; // no sink has a place yet: keep everything
    for (const segment of outboxFiles(this.dir).slice(0, -1)) {
      let stat;
      let last: number | undefined;
      try {
        stat = statSync(segment);
        const fd = openSync(segment, 'r');
        try {
          last = Number(/"seq":(\d+)/.exec(lastLineBefore(fd, stat.size)?.text ?? '')?.[1] ?? NaN);
        } finally {
          closeSync(fd);
        }
      } catch {
        continue;
      }
      const needed = cursors.some((c) => c.ino === stat.ino || !(c.seq >= (last ?? Infinity)));
      if (needed) return; // later segments are needed too
      try {
        unlinkSync(segment);
      } catch {
        // another process pruned it
      }
    }
  }
}

function readCursors(dir: string): { ino: number; seq: number }[] {
  const cursors: { ino: number; seq: number }[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.endsWith('.cursor')) continue;
    try {
      const data = JSON.parse(readFileSync(join(dir, name), 'utf8')) as { ino?: unknown; seq?: unknown };
      if (typeof data.ino === 'number' && typeof data.seq === 'number') cursors.push({ ino: data.ino, seq: data.seq });
    } catch {
      // unreadable: the engine reports it when it loads that cursor
    }
  }
  return cursors;
}
