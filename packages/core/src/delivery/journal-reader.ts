// Reads the JSONL journal (the outbox) from a position, across segments, for the delivery engine.
import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { basename } from 'node:path';
import type { AuditEvent } from '../event';
import { lastLineBefore, lastNewlineBefore, readAt } from '../files/fs-util';

/**
 * A place in the journal: just after the line holding event `seq` (seq 0: before any event).
 * `ino` identifies the segment file whatever it is renamed to, so a cursor survives rotation;
 * `seq` lets the reader find its place again when the file it names is gone.
 */
export interface JournalPosition {
  /** Base name of the segment when the position was taken. */
  readonly file: string;
  /** Inode of that segment. */
  readonly ino: number;
  /** Byte offset just after the last line read. */
  readonly offset: number;
  /** Seq of the last event read (0 when none). */
  readonly seq: number;
}

/** One line read from the journal: the event, or why it could not be parsed. */
export type JournalLine =
  | { readonly event: AuditEvent; readonly bytes: number; readonly seq: number }
  | { readonly event?: undefined; readonly text: string; readonly bytes: number; readonly seq: number; readonly problem: string };

/** What one read returned: whole lines, and the position after the last. */
export interface JournalChunk {
  /** Lines read, in journal order. */
  readonly lines: JournalLine[];
  /** Position after the last line (equal to `from` when nothing was read). */
  readonly end: JournalPosition;
}

/** Lists the journal's files, oldest first, the live file last; rotation plugs in here. */
export type SegmentLister = () => readonly string[];

/** The read side of the journal that every journal-fed sink uses. */
export interface JournalReader {
  /** Where a sink without a cursor starts. */
  start(from: 'beginning' | 'end'): JournalPosition;
  /** Checks a saved position against the files now on disk; returns where to read next and whether it had to be searched for. */
  resolve(saved: JournalPosition): { position: JournalPosition; relocated: boolean };
  /** Reads whole lines after `from`: at most `maxLines`, and at most `maxBytes` unless the first line alone is larger. */
  read(from: JournalPosition, maxLines: number, maxBytes: number): JournalChunk;
  /** Bytes written after `from` and not read yet (an estimate across segments). */
  bytesAfter(from: JournalPosition): number;
  /** Releases open files. */
  close(): void;
}

const CHUNK = 256 * 1024;

/** Reads `{rootLogDir}/audit_log.jsonl` (or any JSONL journal), following segments from `listSegments`. */
export class JsonlJournalReader implements JournalReader {
  private fd = -1;
  private fdIno = -1;

  private relocating = false;

  constructor(
    private readonly livePath: string,
    private readonly listSegments: SegmentLister = () => [livePath],
    private readonly onRelocate: (message: string) => void = () => undefined,
  ) {}

  start(from: 'beginning' | 'end'): JournalPosition {
    if (from === 'beginning') {
      const first = this.segments()[0] ?? this.livePath;
      return { file: basename(first), ino: inoOf(first), offset: 0, seq: 0 };
    }
    const ino = inoOf(this.livePath);
    if (ino < 0) return { file: basename(this.livePath), ino, offset: 0, seq: 0 };
    const fd = this.open(this.livePath, ino);
    const size = fstatSync(fd).size;
    const end = lastNewlineBefore(fd, size) + 1;
    return { file: basename(this.livePath), ino, offset: end, seq: lastSeqBefore(fd, end) };
  }

  resolve(saved: JournalPosition): { position: JournalPosition; relocated: boolean } {
    const path = this.segments().find((p) => inoOf(p) === saved.ino && saved.ino >= 0);
    if (path && this.endsWithSeq(path, saved)) return { position: { ...saved, file: basename(path) }, relocated: false };
    return { position: this.seek(saved.seq), relocated: true };
  }

  read(from: JournalPosition, maxLines: number, maxBytes: number): JournalChunk {
    const lines: JournalLine[] = [];
    let position = from;
    let budget = maxBytes;
    for (;;) {
      const found = this.pathOf(position);
      if (found === undefined) {
        // The segment being read was deleted under us: find the place after the last event read.
        if (position.ino < 0 || lines.length > 0 || this.relocating) return { lines, end: position };
        this.onRelocate(`${position.file} disappeared while being read: resuming after seq ${position.seq}`);
        this.relocating = true;
        try {
          position = this.seek(position.seq);
        } finally {
          this.relocating = false;
        }
        if (this.pathOf(position) === undefined) return { lines, end: position };
        continue;
      }
      const { path, ino } = found;
      const fd = this.open(path, ino);
      const got = readLines(fd, position.offset, maxLines - lines.length, Math.max(budget, 1), lines.length === 0);
      let seq = position.seq;
      for (const line of got.lines) {
        lines.push(line);
        budget -= line.bytes;
        if (line.seq >= 0) seq = line.seq;
      }
      position = { file: basename(path), ino, offset: got.end, seq };
      if (lines.length >= maxLines || budget <= 0 || got.lines.length > 0) return { lines, end: position };
      // Nothing more here: step to the next segment if this one is closed (rotated away).
      const next = this.nextSegment(path, position);
      if (!next) return { lines, end: position };
      position = next;
    }
  }

  bytesAfter(from: JournalPosition): number {
    // The usual case, reading the live file, needs one stat and no directory listing.
    const live = statOf(this.livePath);
    if (live && live.ino === from.ino) return Math.max(0, live.size - from.offset);
    const segments = this.segments();
    let index = segments.findIndex((p) => inoOf(p) === from.ino);
    if (index < 0) index = segments.length - 1;
    let total = 0;
    for (let i = index; i < segments.length; i++) {
      const size = sizeAt(segments[i]!);
      total += i === index ? Math.max(0, size - from.offset) : size;
    }
    return total;
  }

  close(): void {
    if (this.fd >= 0) closeSync(this.fd);
    this.fd = -1;
    this.fdIno = -1;
  }

  private segments(): readonly string[] {
    const list = this.listSegments();
    return list.length > 0 ? list : [this.livePath];
  }

  /** The file holding a position: found by inode, since rotation renames segments. */
  private pathOf(position: JournalPosition): { path: string; ino: number } | undefined {
    if (position.ino < 0) {
      // The journal did not exist when the position was taken: it is the live file once created.
      const ino = inoOf(this.livePath);
      return ino < 0 ? undefined : { path: this.livePath, ino };
    }
    if (inoOf(this.livePath) === position.ino) return { path: this.livePath, ino: position.ino };
    const path = this.segments().find((p) => inoOf(p) === position.ino);
    return path === undefined ? undefined : { path, ino: position.ino };
  }

  private nextSegment(path: string, position: JournalPosition): JournalPosition | undefined {
    const segments = this.segments();
    const index = segments.indexOf(path);
    if (index < 0 || index === segments.length - 1) return undefined;
    const next = segments[index + 1]!;
    return { file: basename(next), ino: inoOf(next), offset: 0, seq: position.seq };
  }

  private endsWithSeq(path: string, saved: JournalPosition): boolean {
    const fd = this.open(path, saved.ino);
    const size = fstatSync(fd).size;
    if (saved.offset > size) return false;
    if (saved.offset === 0) return true;
    if (readAt(fd, saved.offset - 1, 1)[0] !== 0x0a) return false;
    const line = lastLineBefore(fd, saved.offset);
    return line !== undefined && seqOf(line.text) === saved.seq;
  }

  /** Finds the place after event `seq` by reading the segments from the oldest: used only when a cursor no longer matches the files. */
  private seek(seq: number): JournalPosition {
    let position = this.start('beginning');
    for (;;) {
      const chunk = this.read(position, 4096, 4 * CHUNK);
      if (chunk.lines.length === 0) return chunk.end;
      // The lines of one read come from one segment and end at chunk.end.
      let offset = chunk.end.offset - chunk.lines.reduce((sum, line) => sum + line.bytes, 0);
      let last = position.seq;
      for (const line of chunk.lines) {
        if (line.seq > seq) return { ...chunk.end, offset, seq: last };
        offset += line.bytes;
        if (line.seq >= 0) last = line.seq;
      }
      position = chunk.end;
    }
  }

  private open(path: string, ino: number): number {
    if (this.fd >= 0 && this.fdIno === ino) return this.fd;
    this.close();
    this.fd = openSync(path, 'r');
    this.fdIno = fstatSync(this.fd).ino;
    return this.fd;
  }
}

/** Reads whole lines from `offset`; the first line is always taken whole when `force` is set, however long. */
function readLines(fd: number, offset: number, maxLines: number, maxBytes: number, force: boolean): { lines: JournalLine[]; end: number } {
  const lines: JournalLine[] = [];
  let end = offset;
  let want = Math.min(Math.max(maxBytes, 1), CHUNK);
  for (;;) {
    const buf = readAt(fd, end, want);
    let start = 0;
    let used = 0;
    for (let nl = buf.indexOf(0x0a); nl >= 0 && lines.length < maxLines; nl = buf.indexOf(0x0a, start)) {
      const bytes = nl + 1 - start;
      if (used + bytes > maxBytes && !(force && lines.length === 0)) break;
      lines.push(parseLine(buf.toString('utf8', start, nl), bytes));
      used += bytes;
      start = nl + 1;
    }
    end += start;
    maxBytes -= used;
    const full = lines.length >= maxLines || maxBytes <= 0;
    const eof = buf.length < want;
    if (full || eof) return { lines, end };
    if (start === 0) {
      // One line longer than the chunk: widen the read until it ends, but only for a forced first line.
      if (!(force && lines.length === 0)) return { lines, end };
      want *= 2;
      continue;
    }
    want = Math.min(Math.max(maxBytes, 1), CHUNK);
  }
}

function parseLine(text: string, bytes: number): JournalLine {
  try {
    const event = JSON.parse(text) as AuditEvent;
    if (event && typeof event === 'object' && typeof event.seq === 'number' && typeof event.id === 'string') return { event, bytes, seq: event.seq };
    return { text, bytes, seq: -1, problem: 'the journal line is not an audit event' };
  } catch (err) {
    return { text, bytes, seq: seqOf(text) ?? -1, problem: `the journal line is not valid JSON: ${(err as Error).message}` };
  }
}

/** Seq of the last line before `end` that has one (a few unreadable lines at the end are passed over). */
function lastSeqBefore(fd: number, end: number): number {
  for (let i = 0; i < 64 && end > 0; i++) {
    const line = lastLineBefore(fd, end);
    if (!line) return 0;
    const seq = seqOf(line.text);
    if (seq !== undefined) return seq;
    end = line.start;
  }
  return 0;
}

/** Seq of a JSON line without parsing it all (our lines put seq second). */
function seqOf(text: string): number | undefined {
  const match = /"seq":(\d+)/.exec(text.slice(0, 200));
  return match ? Number(match[1]) : undefined;
}

function statOf(path: string): { ino: number; size: number } | undefined {
  try {
    return statSync(path);
  } catch {
    return undefined;
  }
}

function inoOf(path: string): number {
  try {
    return statSync(path).ino;
  } catch {
    return -1;
  }
}

function sizeAt(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}
