// The JSON array file of the first seed: it parses as an array after every event and after a crash at any instant.
// Oldest-first appends in place (one pwrite per event, constant cost); newest-first rewrites
// a temporary copy and renames it over the file (crash-safe, but cost grows with the file).
import { closeSync, constants, fsyncSync, ftruncateSync, openSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { lastLineBefore, linesBackward, readAt, sizeOf, writeAll } from '../files/fs-util';
import { LogFile, tailFromJson, type LogFileOptions, type RecordedEvent, type TailState } from './log-file';

/** Order of events in the JSON array. */
export type JsonArrayOrder = 'oldest-first' | 'newest-first';

/** Options of the JSON array file. */
export interface JsonArrayFileOptions extends LogFileOptions {
  /** 'oldest-first' (default, constant cost per event) or 'newest-first' (the first seed's order, cost grows with the file). */
  order?: JsonArrayOrder;
}

const CLOSE = Buffer.from('\n]\n');
const EMPTY = '[\n]\n';

/** `{rootLogDir}/audit_log.json`. */
export class JsonArrayFile extends LogFile {
  readonly name = 'json';
  private readonly order: JsonArrayOrder;
  private empty = true;
  private orderChecked = false;

  constructor(path: string, options: JsonArrayFileOptions = {}) {
    super(path, options);
    this.order = options.order ?? 'oldest-first';
  }

  protected openFlags(): string {
    return 'a+'; // create if missing; reopened read-write below
  }

  override open(context: Parameters<LogFile['open']>[0]): void {
    super.open(context);
    this.orderChecked = false;
    const appendOnly = this.fd;
    this.fd = -1;
    closeSync(appendOnly);
    try {
      this.fd = openSync(this.path, constants.O_RDWR);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    if (this.order === 'newest-first') this.removeLeftoverCopies();
  }

  /** A writer killed in the middle of a newest-first rewrite leaves its copy behind; we hold the lock, so none is in use. */
  private removeLeftoverCopies(): void {
    const prefix = basename(this.path) + '.tmp-';
    try {
      for (const name of readdirSync(dirname(this.path))) {
        if (name.startsWith(prefix)) unlinkSync(join(dirname(this.path), name));
      }
    } catch {
      // Best effort: a leftover copy is clutter, not a fault.
    }
  }

  onLease(): TailState | undefined {
    this.followRename();
    const size = sizeOf(this.fd);
    if (size === this.knownSize) return undefined;
    if (size === 0) {
      writeAll(this.fd, Buffer.from(EMPTY), 0);
      this.knownSize = EMPTY.length;
      this.empty = true;
      return { seq: 0, hash: undefined };
    }
    if (!this.endsWithClose(size)) this.normalise(size);
    this.knownSize = sizeOf(this.fd);
    return this.readTail();
  }

  write(_event: AuditEvent, json: string): void {
    if (this.order === 'newest-first') this.prepend(json);
    else this.append(json);
    this.empty = false;
  }

  eventsAfter(seq: number): RecordedEvent[] {
    const found: RecordedEvent[] = [];
    const lines =
      this.order === 'newest-first'
        ? readAt(this.fd, 0, this.knownSize).toString('utf8').split('\n').slice(1)
        : Array.from(linesBackward(this.fd, this.knownSize), (line) => line.text);
    for (const line of lines) {
      const text = line.endsWith(',') ? line.slice(0, -1) : line;
      if (text.trim() === ']' || text.trim() === '') continue;
      if (text.trim() === '[') break;
      const event = JSON.parse(text) as AuditEvent;
      if (event.seq <= seq) break;
      found.push({ event, json: text });
    }
    return found.reverse();
  }

  private append(json: string): void {
    const position = this.knownSize - CLOSE.length;
    const data = Buffer.from((this.empty ? '\n' : ',\n') + json + '\n]\n');
    this.unsynced = true;
    try {
      writeAll(this.fd, data, position);
    } catch (err) {
      this.restoreEnd(position);
      throw new AuditWriteError(this.path, err);
    }
    this.knownSize = position + data.length;
  }

  private prepend(json: string): void {
    const current = readAt(this.fd, 0, this.knownSize).toString('utf8');
    // What follows the opening bracket: ours is "[\n", another tool's may be "[{" or "[\n  {".
    const rest = current.slice(current.indexOf('[') + 1).trimStart();
    const next = '[\n' + json + (this.empty ? '\n' : ',\n') + rest;
    const temp = `${this.path}.tmp-${randomBytes(6).toString('hex')}`;
    try {
      writeFileSync(temp, next, { mode: 0o600, flag: 'wx' });
      const fd = openSync(temp, 'r');
      try {
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // nothing to clean
      }
      throw new AuditWriteError(this.path, err);
    }
    // The old file's events are all in the new one, synced before the rename: only the directory entry is left to sync.
    this.closeDescriptor(this.fd);
    this.fd = openSync(this.path, constants.O_RDWR);
    this.unsynced = false;
    this.renamed = true;
    this.knownSize = Buffer.byteLength(next);
  }

  /** After another writer renamed a new file into place, our descriptor names the old one. */
  private followRename(): void {
    if (!this.replacedOnDisk().replaced) return;
    this.closeForReopen();
    this.fd = openSync(this.path, constants.O_RDWR | constants.O_CREAT, 0o600);
    this.knownSize = -1;
  }

  private endsWithClose(size: number): boolean {
    return size >= CLOSE.length && readAt(this.fd, size - CLOSE.length, CLOSE.length).equals(CLOSE);
  }

  private readTail(): TailState {
    // Another tool's array ("[{...}]", pretty-printed): its first line is not ours to read.
    if (this.order === 'newest-first' && readAt(this.fd, 0, 2).toString('utf8') !== '[\n') return this.tailFromWholeFile();
    const text = this.order === 'newest-first' ? this.firstEventLine() : this.lastEventLine();
    this.empty = text === undefined;
    if (text === undefined) return { seq: 0, hash: undefined };
    const tail = tailFromJson(text.replace(/,$/, ''));
    if (!tail) return this.tailFromWholeFile();
    if (!this.orderChecked) this.checkOrder(tail.seq);
    return tail;
  }

  /** Once per logger: a file kept in the other order would give us a stale tail, so refuse it with the fix. */
  private checkOrder(tailSeq: number): void {
    this.orderChecked = true;
    const otherEnd = this.order === 'newest-first' ? this.lastEventLine() : this.firstEventLine();
    const other = otherEnd === undefined ? undefined : tailFromJson(otherEnd.replace(/,$/, ''));
    if (other && other.seq > tailSeq) {
      const actual = this.order === 'newest-first' ? 'oldest-first' : 'newest-first';
      throw new AuditWriteError(this.path, new Error(`holds its events ${actual} (seq ${other.seq} at the ${actual === 'newest-first' ? 'top' : 'end'}), but this logger writes ${this.order}: pass order: '${actual}'`));
    }
  }

  private lastEventLine(): string | undefined {
    const line = lastLineBefore(this.fd, this.knownSize - CLOSE.length + 1);
    if (!line || line.text.trim() === '[') return undefined;
    return line.text;
  }

  private firstEventLine(): string | undefined {
    // Read from the top until the first event's line is whole (events may be large).
    for (let chunk = 4096; ; chunk *= 4) {
      const head = readAt(this.fd, 0, Math.min(this.knownSize, chunk)).toString('utf8');
      const lines = head.split('\n');
      if (lines.length < 3 && chunk < this.knownSize) continue;
      const first = lines[1];
      return first === undefined || first.trim() === ']' ? undefined : first;
    }
  }

  /** A file written by another tool (pretty-printed, say): parse it whole, once. */
  private tailFromWholeFile(): TailState {
    const events = this.parseWhole();
    this.empty = events.length === 0;
    const last = (this.order === 'newest-first' ? events[0] : events[events.length - 1]) as Partial<AuditEvent> | undefined;
    if (!last) return { seq: 0, hash: undefined };
    return { seq: typeof last.seq === 'number' ? last.seq : events.length, hash: typeof last.hash === 'string' ? last.hash : undefined };
  }

  private parseWhole(): unknown[] {
    const text = readFileSync(this.path, 'utf8');
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      throw new AuditWriteError(this.path, new Error(`not a JSON array and cannot be repaired: ${(err as Error).message}`));
    }
    if (!Array.isArray(value)) throw new AuditWriteError(this.path, new Error('holds JSON that is not an array'));
    return value;
  }

  /**
   * Brings a valid array from another writer (pretty-printed, no trailing newline) to our
   * ending, or repairs an array torn by a power loss by cutting back to its last whole event.
   */
  private normalise(size: number): void {
    const text = readAt(this.fd, 0, size).toString('utf8');
    const close = text.lastIndexOf(']');
    let valid = false;
    try {
      valid = Array.isArray(JSON.parse(text));
    } catch {
      valid = false;
    }
    if (valid) {
      const body = text.slice(0, close).trimEnd();
      this.rewriteEnd(Buffer.byteLength(body), '\n]\n');
      return;
    }
    const cut = this.lastWholeEventEnd(text);
    if (cut === undefined) throw new AuditWriteError(this.path, new Error('is not a JSON array and holds no whole event to keep'));
    const torn = text.slice(cut);
    writeFileSync(this.path + '.torn', torn + '\n', { mode: 0o600, flag: 'a' });
    this.rewriteEnd(Buffer.byteLength(text.slice(0, cut)), '\n]\n');
    this.warn('TORN_ARRAY_REPAIRED', `${this.path}: cut ${torn.length} torn characters (kept in ${this.path}.torn)`);
  }

  private lastWholeEventEnd(text: string): number | undefined {
    let end = text.length;
    for (;;) {
      const newline = text.lastIndexOf('\n', end - 1);
      if (newline < 0) return undefined;
      const line = text.slice(newline + 1, end).replace(/,$/, '');
      if (line.trim() === '[') return newline + 1 + line.length;
      if (line.startsWith('{')) {
        try {
          JSON.parse(line);
          return newline + 1 + line.length;
        } catch {
          // torn: keep looking further back
        }
      }
      end = newline;
    }
  }

  private rewriteEnd(at: number, ending: string): void {
    ftruncateSync(this.fd, at);
    writeAll(this.fd, Buffer.from(ending), at);
  }

  private restoreEnd(position: number): void {
    try {
      this.rewriteEnd(position, '\n]\n');
    } catch {
      // The next lease repairs the file.
    }
  }
}
