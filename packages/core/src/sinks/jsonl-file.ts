// The JSONL journal: one event a line, append-only; a torn last line is moved aside on open.
import { appendFileSync, closeSync, fstatSync, ftruncateSync, openSync, renameSync } from 'node:fs';
import { dirname } from 'node:path';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { appendText } from '../files/append-text';
import { lastLineBefore, lastNewlineBefore, linesBackward, readAt, sizeOf, syncDirectory } from '../files/fs-util';
import { firstLine, firstAndLast, listSegments } from '../rotation/segments';
import { LogFile, tailFromJson, type RecordedEvent, type TailState } from './log-file';

/** `{rootLogDir}/audit_log.jsonl`. */
export class JsonlFile extends LogFile {
  readonly name = 'jsonl';
  /** Time of the live file's first event (ms), cached until the file changes identity. */
  private firstMs: number | undefined;

  protected openFlags(): string {
    return 'a+';
  }

  onLease(): TailState | undefined {
    const size = this.followRotation();
    if (size === this.knownSize) return undefined;
    const end = this.repairTornTail(size);
    this.knownSize = end;
    const line = lastLineBefore(this.fd, end);
    if (!line) return this.tailOfSegments();
    const tail = tailFromJson(line.text);
    if (!tail) throw new AuditWriteError(this.path, new Error(`last line is not an audit event: ${line.text.slice(0, 80)}`));
    return tail;
  }

  write(_event: AuditEvent, json: string): void {
    let written: number;
    this.unsynced = true;
    try {
      written = appendText(this.fd, json, true);
    } catch (err) {
      this.undoPartialWrite();
      throw new AuditWriteError(this.path, err);
    }
    this.knownSize += written;
  }

  eventsAfter(seq: number): RecordedEvent[] {
    const found: RecordedEvent[] = [];
    if (!collectAfter(this.fd, this.knownSize, seq, found)) {
      // The events asked for began before a rotation: the rest are at the end of the newest segment.
      const segments = listSegments(dirname(this.path));
      const newest = segments[segments.length - 1];
      if (newest) {
        const fd = openSync(newest.path, 'r');
        try {
          collectAfter(fd, fstatSync(fd).size, seq, found);
        } finally {
          closeSync(fd);
        }
      }
    }
    return found.reverse();
  }

  /** Bytes in the live file as this writer left it. */
  get size(): number {
    return Math.max(this.knownSize, 0);
  }

  /** Time of the live file's first event (ms), or undefined when it is empty. */
  firstEventMs(): number | undefined {
    if (this.firstMs === undefined && this.knownSize > 0) {
      const timestamp = (JSON.parse(firstLine(this.fd, this.knownSize)) as Partial<AuditEvent>).timestamp;
      this.firstMs = typeof timestamp === 'string' ? Date.parse(timestamp) : undefined;
    }
    return this.firstMs;
  }

  /** Closes the live file into a segment at `segmentPath` and starts an empty live file; under the lock. */
  rotateTo(segmentPath: string): void {
    try {
      renameSync(this.path, segmentPath);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    this.reopen();
    this.knownSize = 0;
    // The segment's new name and the new live file must survive a crash as surely as the events: the segment ends the chain's first part.
    try {
      syncDirectory(dirname(this.path));
    } catch (err) {
      throw new AuditWriteError(dirname(this.path), err);
    }
  }

  /** Another writer may have rotated the live file away: our descriptor then names a closed segment. Returns the live file's size. */
  private followRotation(): number {
    const seen = this.replacedOnDisk();
    if (!seen.replaced) return seen.size;
    this.reopen();
    return sizeOf(this.fd);
  }

  private reopen(): void {
    const context = this.context!;
    this.closeForReopen();
    this.firstMs = undefined;
    this.open(context);
  }

  /** An empty live file continues the chain of the newest closed segment, if any. */
  private tailOfSegments(): TailState {
    const segments = listSegments(dirname(this.path));
    const newest = segments[segments.length - 1];
    const last = newest ? firstAndLast(newest.path)?.last : undefined;
    return last ? { seq: last.seq, hash: last.hash } : { seq: 0, hash: undefined };
  }

  /** A crash can leave a last line without its newline: move it to `.torn` and cut it off. */
  private repairTornTail(size: number): number {
    if (size === 0 || readAt(this.fd, size - 1, 1)[0] === 0x0a) return size;
    const start = lastNewlineBefore(this.fd, size) + 1;
    const torn = readAt(this.fd, start, size - start);
    appendFileSync(this.path + '.torn', Buffer.concat([torn, Buffer.from('\n')]), { mode: 0o600 });
    ftruncateSync(this.fd, start);
    this.warn('TORN_LINE_REPAIRED', `${this.path}: moved a torn last line of ${torn.length} bytes to ${this.path}.torn`);
    return start;
  }

  private undoPartialWrite(): void {
    try {
      if (sizeOf(this.fd) > this.knownSize) ftruncateSync(this.fd, this.knownSize);
    } catch {
      // The next lease's repair moves any fragment aside.
    }
  }
}

/** Collects, newest first, the events after `seq` in a file; true when it reached an event at or before `seq`. */
function collectAfter(fd: number, size: number, seq: number, found: RecordedEvent[]): boolean {
  for (const { text } of linesBackward(fd, size)) {
    const event = JSON.parse(text) as AuditEvent;
    if (event.seq <= seq) return true;
    found.push({ event, json: text });
  }
  return false;
}
