// The delivery outbox for loggers that write no JSONL journal (json or csv only): `{rootLogDir}/.delivery/outbox.jsonl`,
// rotated into `outbox.<first seq>.jsonl` segments that are deleted once every sink's cursor has left them.
import { closeSync, fstatSync, ftruncateSync, openSync, readdirSync, readFileSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { ensurePrivateDir, lastLineBefore, readAt, writeAll } from '../files/fs-util';
import type { RecordedEvent } from '../sinks/log-file';

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

/** What the journal feeds, under the directory lock: each event right after the primary file, and a catch-up at each lease. */
export interface JournalFollower {
  /** At a new lease: copies what the primary file holds after the follower's last event (`tailSeq` is the primary's last seq). */
  catchUp(tailSeq: number, eventsAfter: (seq: number) => RecordedEvent[]): number;
  /** Appends the event just written to the primary file; throws when it cannot (the next lease catches up). */
  append(event: AuditEvent, json: string): void;
}

/**
 * Appends each event's JSON line, synchronously, before logEvent returns: the line the journal
 * would hold, so the engine reads both alike. The journal calls it under the log directory's lock
 * right after the primary file, so lines are in seq order and a rotation never races an append;
 * at each lease it copies from the primary file whatever the outbox lacks (a crash between the
 * two writes, a failed write, or a writer of the directory that has no batch sink).
 */
export class OutboxWriter implements JournalFollower {
  private fd = -1;
  private ino = -1;
  private size = 0;
  private readonly dir: string;
  /** The last seq the outbox holds (read back at each lease), or undefined before the first catch-up. */
  private lastSeq: number | undefined;

  constructor(readonly path: string, private readonly maxBytes: number = 64 * 1024 * 1024) {
    this.dir = join(path, '..');
    ensurePrivateDir(this.dir);
    this.reopen();
  }

  catchUp(tailSeq: number, eventsAfter: (seq: number) => RecordedEvent[]): number {
    this.followRotation();
    this.repairTornTail();
    const held = this.heldSeq(tailSeq);
    this.lastSeq = held;
    if (held >= tailSeq) return 0;
    let copied = 0;
    for (const { event, json } of eventsAfter(held)) {
      if (event.seq <= this.lastSeq) continue;
      this.write(event.seq, json);
      copied++;
    }
    return copied;
  }

  /** Appends one line (no newline in `json`), rotating first when the file is full. */
  append(event: AuditEvent, json: string): void {
    this.followRotation();
    if (this.lastSeq === undefined || event.seq !== this.lastSeq + 1) {
      throw new AuditWriteError(this.path, new Error(`holds seq ${this.lastSeq ?? '?'}, cannot append seq ${event.seq} before catching up`));
    }
    this.write(event.seq, json);
  }

  private write(seq: number, json: string): void {
    if (this.size >= this.maxBytes) this.rotate();
    const data = Buffer.from(json + '\n');
    try {
      writeAll(this.fd, data);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    this.size += data.length;
    this.lastSeq = seq;
  }

  private followRotation(): void {
    try {
      if (this.fd < 0 || statSync(this.path).ino !== this.ino) this.reopen(); // a failed open, or another process rotated it
    } catch {
      this.reopen();
    }
  }

  /** A crash mid-line leaves a line without its newline: cut it (the catch-up writes that event again). */
  private repairTornTail(): void {
    this.size = fstatSync(this.fd).size;
    if (this.size === 0 || readAt(this.fd, this.size - 1, 1)[0] === 0x0a) return;
    const keep = lastLineBefore(this.fd, this.size)?.start ?? 0;
    ftruncateSync(this.fd, keep);
    this.size = keep;
  }

  /**
   * The last seq in the outbox: its live file's last line, else the newest segment's, else the
   * seq it was started after (`outbox.start`, written when a first sink creates it, so that it
   * begins where the log is instead of copying its whole history).
   */
  private heldSeq(tailSeq: number): number {
    for (const file of outboxFiles(this.dir).reverse()) {
      const seq = lastSeqOf(file);
      if (seq !== undefined) return seq;
    }
    const start = join(this.dir, 'outbox.start');
    try {
      writeFileSync(start, `${tailSeq}\n`, { flag: 'wx', mode: 0o600 });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    const seq = Number(readFileSync(start, 'utf8').trim());
    return Number.isInteger(seq) && seq >= 0 ? seq : tailSeq;
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

function lastSeqOf(path: string): number | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined;
  }
  try {
    const seq = /"seq":(\d+)/.exec(lastLineBefore(fd, fstatSync(fd).size)?.text ?? '')?.[1];
    return seq === undefined ? undefined : Number(seq);
  } finally {
    closeSync(fd);
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
