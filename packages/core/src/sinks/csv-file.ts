// The CSV file of the first seed, appended under the directory lock, header first.
import { appendFileSync, ftruncateSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { CSV_COLUMNS, CSV_HEADER, CSV_TAIL, csvToEvent, eventToCsv } from '../csv-codec';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { lastLineBefore, lastNewlineBefore, linesBackward, readAt, sizeOf, writeAll } from '../files/fs-util';
import { LogFile, type RecordedEvent, type TailState } from './log-file';

/** `{rootLogDir}/audit_log.csv`. */
export class CsvFile extends LogFile {
  readonly name = 'csv';

  protected openFlags(): string {
    return 'a+';
  }

  onLease(): TailState | undefined {
    const size = this.followReplacement();
    if (size === this.knownSize) return undefined;
    if (size === 0) {
      writeAll(this.fd, Buffer.from(CSV_HEADER));
      this.knownSize = CSV_HEADER.length;
      return { seq: 0, hash: undefined };
    }
    this.checkHeader();
    this.knownSize = this.repairTornTail(size);
    return this.readTail();
  }

  write(event: AuditEvent): void {
    const data = Buffer.from(eventToCsv(event));
    this.unsynced = true;
    try {
      writeAll(this.fd, data);
    } catch (err) {
      try {
        ftruncateSync(this.fd, this.knownSize);
      } catch {
        // repaired on the next lease
      }
      throw new AuditWriteError(this.path, err);
    }
    this.knownSize += data.length;
  }

  eventsAfter(seq: number): RecordedEvent[] {
    // Records may span lines; a line ending in our id,seq,prev_hash,hash cells ends one.
    let from = CSV_HEADER.length;
    for (const { text, start } of linesBackward(this.fd, this.knownSize)) {
      const match = CSV_TAIL.exec(text);
      if (match && Number(match[2]) <= seq) {
        from = start + Buffer.byteLength(text) + 1;
        break;
      }
      if (start <= CSV_HEADER.length) break;
    }
    const text = readAt(this.fd, from, this.knownSize - from);
    const records = parse(text, { columns: [...CSV_COLUMNS] }) as Record<string, string>[];
    return records.map((record) => {
      const event = csvToEvent(record);
      return { event, json: JSON.stringify(event) };
    });
  }

  /** The file was moved or deleted under us (log shipping, a person): write to the one at our path, never to a ghost. Returns its size. */
  private followReplacement(): number {
    const { replaced, missing, size } = this.replacedOnDisk();
    if (!replaced) return size;
    this.closeForReopen();
    this.open(this.context!);
    this.warn('FILE_REPLACED', `${this.path} was moved or deleted while open; writing to ${missing ? 'a new file' : 'the file now at that path'}`);
    return sizeOf(this.fd);
  }

  private checkHeader(): void {
    const head = readAt(this.fd, 0, CSV_HEADER.length).toString('utf8');
    if (head !== CSV_HEADER) {
      const first = head.split('\n')[0];
      throw new AuditWriteError(
        this.path,
        new Error(`has header "${first}", expected "${CSV_HEADER.trim()}"; move the old file aside or export it with "auditrail export"`),
      );
    }
  }

  private readTail(): TailState {
    const line = lastLineBefore(this.fd, this.knownSize);
    const match = line ? CSV_TAIL.exec(line.text) : null;
    if (!match) return { seq: 0, hash: undefined }; // only the header
    return { seq: Number(match[2]), hash: match[4] };
  }

  /** Cuts back to the last whole record: one that ends in a newline after its hash cell. */
  private repairTornTail(size: number): number {
    let end = size;
    for (;;) {
      if (end <= CSV_HEADER.length) break;
      if (readAt(this.fd, end - 1, 1)[0] === 0x0a) {
        const line = lastLineBefore(this.fd, end);
        if (line && CSV_TAIL.test(line.text)) break;
      }
      end = lastNewlineBefore(this.fd, end - 1) + 1;
    }
    if (end === size) return size;
    const torn = readAt(this.fd, end, size - end);
    appendFileSync(this.path + '.torn', Buffer.concat([torn, Buffer.from('\n')]), { mode: 0o600 });
    ftruncateSync(this.fd, end);
    this.warn('TORN_LINE_REPAIRED', `${this.path}: moved a torn record of ${torn.length} bytes to ${this.path}.torn`);
    return end;
  }
}
