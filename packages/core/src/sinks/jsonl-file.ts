// The JSONL journal: one event a line, append-only; a torn last line is moved aside on open.
import { appendFileSync, ftruncateSync } from 'node:fs';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { appendText } from '../files/append-text';
import { lastLineBefore, lastNewlineBefore, linesBackward, readAt, sizeOf } from '../files/fs-util';
import { LogFile, tailFromJson, type RecordedEvent, type TailState } from './log-file';

/** `{rootLogDir}/audit_log.jsonl`. */
export class JsonlFile extends LogFile {
  readonly name = 'jsonl';

  protected openFlags(): string {
    return 'a+';
  }

  onLease(): TailState | undefined {
    const size = sizeOf(this.fd);
    if (size === this.knownSize) return undefined;
    const end = this.repairTornTail(size);
    this.knownSize = end;
    const line = lastLineBefore(this.fd, end);
    if (!line) return { seq: 0, hash: undefined };
    const tail = tailFromJson(line.text);
    if (!tail) throw new AuditWriteError(this.path, new Error(`last line is not an audit event: ${line.text.slice(0, 80)}`));
    return tail;
  }

  write(_event: AuditEvent, json: string): void {
    let written: number;
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
    for (const { text } of linesBackward(this.fd, this.knownSize)) {
      const event = JSON.parse(text) as AuditEvent;
      if (event.seq <= seq) break;
      found.push({ event, json: text });
    }
    return found.reverse();
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
