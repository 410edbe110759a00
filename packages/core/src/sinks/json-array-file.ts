// The JSON array file of the first seed: it parses as an array after every event and after a SIGKILL at any instant.
// Oldest-first writes each event into whitespace reserved before "]" (json-array-layout.ts: one
// write inside one page, constant cost), and regrows the reserve from a copy prepared in the
// background (json-array-precopy.ts); newest-first rewrites a copy and renames it into place.
import { closeSync, constants, copyFileSync, existsSync, fdatasyncSync, fstatSync, fsyncSync, ftruncateSync, linkSync, openSync, readFileSync, readdirSync, realpathSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { AuditWriteError } from '../errors';
import type { AuditEvent } from '../event';
import { encodeText } from '../files/append-text';
import { lastLineBefore, linesBackward, readAt, sizeOf, writeAll } from '../files/fs-util';
import { CLOSE, PAGE, appendedSince, findEnd, placeFor, reserveFor, writeReserve } from './json-array-layout';
import { JsonArrayPrecopy } from './json-array-precopy';
import { LogFile, tailFromJson, type LogFileOptions, type RecordedEvent, type TailState } from './log-file';

/** A file smaller than this regrows by a plain copy: it takes well under a millisecond. */
const PRECOPY_FROM = 64 * 1024;
/** The copy for the next regrowth starts once this share of the reserve is used... */
const PRECOPY_AT = 0.5;
/**
 * ...if, at the rate the reserve was used so far, the rest lasts this long plus the time to copy
 * and sync the file at COPY_BYTES_PER_MS: a program logging faster would fill the reserve before
 * the copy is ready, and pay for two copies (see docs/local-files.md).
 */
const PRECOPY_LEAD_MS = 50;
/** The fill rate is judged over at least this many bytes appended (or a quarter of the reserve). */
const RATE_SAMPLE_BYTES = 256 * 1024;
const COPY_BYTES_PER_MS = 200 * 1024;
/** Bytes moved per read and write when the swap copies what was appended since the precopy. */
const DELTA_CHUNK = 1 << 20;

/** Order of events in the JSON array. */
export type JsonArrayOrder = 'oldest-first' | 'newest-first';

/** Options of the JSON array file. */
export interface JsonArrayFileOptions extends LogFileOptions {
  /** 'oldest-first' (default, constant cost per event) or 'newest-first' (the first seed's order, cost grows with the file). */
  order?: JsonArrayOrder;
}

/** `{rootLogDir}/audit_log.json`. */
export class JsonArrayFile extends LogFile {
  readonly name = 'json';
  private readonly order: JsonArrayOrder;
  private empty = true;
  private orderChecked = false;
  /** Oldest-first: where the last event (or the opening bracket) ends. */
  private end = 0;
  /** A failed write left bytes in the reserve that could not be given back: repair before the next write. */
  private damaged = false;
  /** Oldest-first: where the events ended when the reserve was made (the reserve's start), or an estimate. */
  private reserveFrom = 0;
  /** Oldest-first: where the events ended, and when (performance.now()), when this writer began to measure how fast the reserve fills. */
  private rateFrom = { end: 0, at: performance.now() };
  /** Oldest-first: whether this reserve's precopy was started or ruled out. */
  private precopyDecided = false;
  /** Oldest-first: the copy being prepared for the next regrowth, if any. */
  private precopy: JsonArrayPrecopy | undefined;
  /** Oldest-first: a precopy is to start at the next turn of the event loop. */
  private precopyQueued = false;
  /** Settles once every background copy started so far has finished or been removed. */
  private background: Promise<unknown> = Promise.resolve();

  constructor(path: string, options: JsonArrayFileOptions = {}) {
    super(path, options);
    this.order = options.order ?? 'oldest-first';
  }

  protected openFlags(): string {
    return 'a+'; // create if missing; reopened read-write below
  }

  override open(context: Parameters<LogFile['open']>[0]): void {
    if (!existsSync(this.path)) this.create();
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
    this.removeLeftoverCopies();
  }

  /** A new file appears whole (an empty array), never as an empty file a crash could leave behind. */
  private create(): void {
    const temp = this.tempPath(this.path);
    try {
      const fd = openSync(temp, 'wx', 0o600);
      try {
        this.writeTail(fd, this.emptyHead(), 0);
      } finally {
        closeSync(fd);
      }
      linkSync(temp, this.path); // never over a file that appeared meanwhile
      this.renamed = true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw new AuditWriteError(this.path, err);
    } finally {
      try {
        unlinkSync(temp);
      } catch {
        // not created
      }
    }
  }

  /** A writer killed in the middle of a rewrite leaves its copy behind; we hold the lock, so none is in use. */
  private removeLeftoverCopies(): void {
    try {
      const target = this.options.allowSymlink ? realpathSync(this.path) : this.path;
      const prefix = basename(target) + '.tmp-';
      for (const name of readdirSync(dirname(target))) {
        if (name.startsWith(prefix)) unlinkSync(join(dirname(target), name));
      }
    } catch {
      // Best effort: a leftover copy is clutter, not a fault.
    }
  }

  onLease(): TailState | undefined {
    const size = this.followRename();
    const closeAt = size - CLOSE.length;
    if (size === this.knownSize && (this.order === 'newest-first' || !appendedSince(this.fd, this.end, closeAt))) return undefined;
    if (size === 0) {
      this.replace(0, this.emptyHead(), false);
      this.empty = true;
      return { seq: 0, hash: undefined };
    }
    if (!this.endsWithClose(size)) this.normalise(size);
    this.knownSize = sizeOf(this.fd);
    if (this.order === 'oldest-first') {
      const before = this.end;
      this.end = findEnd(this.fd, this.knownSize - CLOSE.length);
      // Events are only ever added: an end that moved back means the file was changed in place (a
      // backup copied over it, a repair), and a copy of it made before may hold bytes it no longer has.
      if (this.precopy && (this.end < before || this.knownSize - CLOSE.length !== this.precopy.sourceCloseAt)) this.dropPrecopy();
      // Another writer may have regrown it: a regrowth leaves the events two thirds of the file, or less.
      const reserveFrom = Math.min(this.end, Math.max(this.reserveFrom, Math.floor(((this.knownSize - CLOSE.length) * 2) / 3)));
      if (reserveFrom !== this.reserveFrom) this.resetReserve(reserveFrom);
    }
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
        : Array.from(linesBackward(this.fd, this.end + 1), (line) => line.text);
    for (const line of lines) {
      const text = recordOf(line);
      if (text === ']' || text === '') continue;
      if (text === '[') break;
      const event = JSON.parse(text) as AuditEvent;
      if (event.seq <= seq) break;
      found.push({ event, json: text });
    }
    return found.reverse();
  }

  private append(json: string): void {
    if (this.damaged) {
      this.end = findEnd(this.fd, this.knownSize - CLOSE.length);
      this.readTail();
      this.damaged = false;
    }
    const data = encodeText(json, this.empty ? '\n' : ',\n');
    const closeAt = this.knownSize - CLOSE.length;
    const at = placeFor(this.end, data.length, closeAt);
    if (at === undefined) {
      // The reserve is used up, or the record is longer than a page: a copy holding it is renamed into place.
      if (!this.swapInPrecopy(data)) this.replace(this.end, Buffer.from(data), true);
      return;
    }
    this.unsynced = true;
    try {
      writeAll(this.fd, data, at);
    } catch (err) {
      this.damaged = !this.restoreReserve(at, at + data.length);
      throw new AuditWriteError(this.path, err);
    }
    this.end = at + data.length;
    if (!this.precopyDecided && closeAt >= PRECOPY_FROM && this.end - this.reserveFrom >= (closeAt - this.reserveFrom) * PRECOPY_AT) this.considerPrecopy(closeAt);
  }

  /** A new reserve starts at `from` (now, as far as this writer can tell). */
  private resetReserve(from: number): void {
    this.reserveFrom = from;
    this.rateFrom = { end: this.end, at: performance.now() };
    this.precopyDecided = false;
  }

  /** Queues a precopy when the rest of the reserve will last long enough for it to be ready. */
  private considerPrecopy(closeAt: number): void {
    // The rate is measured over what this writer saw appended: wait until that is enough to tell.
    const appended = this.end - this.rateFrom.end;
    if (appended < RATE_SAMPLE_BYTES && appended < (closeAt - this.reserveFrom) / 4) return;
    this.precopyDecided = true;
    if (this.precopy || this.precopyQueued) return;
    const msLeft = ((closeAt - this.end) * Math.max(0.001, performance.now() - this.rateFrom.at)) / Math.max(1, appended);
    if (msLeft < PRECOPY_LEAD_MS + closeAt / COPY_BYTES_PER_MS) return;
    // At the next turn: a program that never yields to the event loop could not finish the copy
    // in the background, and would pay for it twice (the copy, then the whole copy at the regrowth).
    this.precopyQueued = true;
    setImmediate(() => {
      this.precopyQueued = false;
      this.startPrecopy();
    }).unref();
  }

  /** Starts copying the file in the background for the next regrowth, unless another writer's copy is being made. */
  private startPrecopy(): void {
    if (this.precopy || this.fd < 0) return;
    try {
      const target = this.options.allowSymlink ? realpathSync(this.path) : this.path;
      const prefix = basename(target) + '.tmp-';
      // One copy per file: several writers of one file would each hold a copy the size of the file.
      if (readdirSync(dirname(target)).some((name) => name.startsWith(prefix))) return;
      const ino = fstatSync(this.fd).ino;
      this.precopy = new JsonArrayPrecopy({ target, ino, closeAt: this.knownSize - CLOSE.length, stableEnd: () => this.end }, this.tempPath(target));
      this.background = Promise.all([this.background, this.precopy.settled]);
    } catch {
      // Without it, the regrowth copies the whole file as it is.
    }
  }

  override close(): void {
    this.dropPrecopy();
    super.close();
  }

  override settled(): Promise<void> {
    return this.background.then(() => undefined);
  }

  /** Gives up the background copy (the file changed under it, or is closed). */
  private dropPrecopy(): void {
    this.precopy?.drop();
    this.precopy = undefined;
  }

  /**
   * Regrows from the background copy: copies into it what was written since it was made, then
   * `insert` at the end of the events; syncs it and renames it into place. False when there is no
   * copy ready for this very file (the caller then copies the whole file), or when it fails.
   */
  private swapInPrecopy(insert: Buffer): boolean {
    const precopy = this.precopy;
    this.precopy = undefined;
    if (!precopy?.ready) {
      precopy?.drop();
      return false;
    }
    let target = this.path;
    let taken: { fd: number; copiedTo: number } | undefined;
    try {
      if (this.options.allowSymlink) target = realpathSync(this.path);
      // The copy is of this file only if the path and our descriptor still name the file it copied, unchanged in size.
      const closeAt = this.knownSize - CLOSE.length;
      if (statSync(target).ino !== precopy.ino || fstatSync(this.fd).ino !== precopy.ino || closeAt !== precopy.sourceCloseAt || this.end + insert.length > precopy.closeAt) {
        precopy.drop();
        return false;
      }
      taken = precopy.take();
      if (!taken || this.end < taken.copiedTo || !this.sameBytes(taken.fd, Math.max(0, taken.copiedTo - PAGE), taken.copiedTo)) throw new Error('stale');
      const fd = taken.fd;
      // What was appended since the copy was made, then the event, then reserve up to the old closing bracket:
      // the copy's bytes there were read while events were being written, and may hold half of one.
      this.copyInto(fd, taken.copiedTo, this.end);
      writeAll(fd, insert, this.end);
      writeReserve(fd, this.end + insert.length, closeAt);
      fdatasyncSync(fd);
      renameSync(precopy.temp, target);
    } catch {
      if (taken) closeSync(taken.fd);
      precopy.drop();
      return false;
    }
    this.installCopy(taken.fd, target, this.end + insert.length);
    return true;
  }

  /** Copies the bytes [from, to) of our file into `fd` at the same offsets. */
  private copyInto(fd: number, from: number, to: number): void {
    for (let at = from; at < to; at += DELTA_CHUNK) writeAll(fd, readAt(this.fd, at, Math.min(DELTA_CHUNK, to - at)), at);
  }

  /** Whether the bytes [from, to) are the same in our file and in `fd`: a copy of bytes since rewritten in place is stale. */
  private sameBytes(fd: number, from: number, to: number): boolean {
    return readAt(this.fd, from, to - from).equals(readAt(fd, from, to - from));
  }

  /** Takes the descriptor of a copy just renamed into place, whose events end at `end`. */
  private installCopy(fd: number, target: string, end: number): void {
    if (target !== this.path) this.renamedIn = dirname(target);
    // The old file's events are all in the new one, synced before the rename: only the directory entry is left to sync.
    this.closeDescriptor(this.fd);
    this.fd = fd;
    this.unsynced = false;
    this.renamed = true;
    this.knownSize = sizeOf(fd);
    this.end = end;
    this.resetReserve(end);
    // Copies other writers were making are of the file just replaced: useless now, and each the size of the file.
    this.removeLeftoverCopies();
  }

  /**
   * The array's first `keep` bytes, then `insert`, a new reserve and the closing bracket, written
   * to a copy that is synced and renamed into place: the path always names a whole array.
   */
  private replace(keep: number, insert: Buffer, copy: boolean): void {
    let target = this.path;
    let temp = '';
    let fd = -1;
    try {
      if (this.options.allowSymlink) target = realpathSync(this.path);
      temp = this.tempPath(target);
      if (copy) copyFileSync(target, temp, constants.COPYFILE_EXCL); // in the kernel: copy_file_range
      fd = openSync(temp, copy ? constants.O_RDWR : constants.O_RDWR | constants.O_CREAT | constants.O_EXCL, 0o600);
      ftruncateSync(fd, keep);
      this.writeTail(fd, insert, keep);
      fsyncSync(fd);
      renameSync(temp, target);
    } catch (err) {
      if (fd >= 0) closeSync(fd);
      try {
        if (temp !== '') unlinkSync(temp);
      } catch {
        // nothing to clean
      }
      throw new AuditWriteError(this.path, err);
    }
    this.dropPrecopy();
    this.installCopy(fd, target, keep + insert.length);
  }

  /** What a rewrite puts at file offset `at`: `head` then, oldest-first, the reserve and the closing bracket. */
  private writeTail(fd: number, head: Buffer, at: number): void {
    writeAll(fd, head, at);
    if (this.order === 'newest-first') return;
    const used = at + head.length;
    writeReserve(fd, used, used + reserveFor(used), CLOSE);
  }

  /** The start of an empty array: whole for newest-first, to be followed by the reserve oldest-first. */
  private emptyHead(): Buffer {
    return Buffer.from(this.order === 'newest-first' ? '[\n]\n' : '[');
  }

  private tempPath(target: string): string {
    return `${target}.tmp-${randomBytes(6).toString('hex')}`;
  }

  private prepend(json: string): void {
    const current = readAt(this.fd, 0, this.knownSize).toString('utf8');
    // What follows the opening bracket: ours is "[\n", another tool's may be "[{" or "[\n  {".
    const rest = current.slice(current.indexOf('[') + 1).trimStart();
    this.replace(0, Buffer.from('[\n' + json + (this.empty ? '\n' : ',\n') + rest), false);
  }

  /** After another writer renamed a new file into place, our descriptor names the old one. Returns the size of the file at the path. */
  private followRename(): number {
    const { replaced, missing, size } = this.replacedOnDisk();
    if (!replaced) return size;
    this.dropPrecopy();
    this.closeForReopen();
    if (missing) this.create();
    try {
      this.fd = openSync(this.path, constants.O_RDWR);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
    this.knownSize = -1;
    return sizeOf(this.fd);
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
    // A comma after the last event is what a write that failed and could not be undone leaves.
    if (this.order === 'oldest-first' && text.endsWith(',')) return this.repairTorn();
    const tail = tailFromJson(recordOf(text));
    if (!tail) return this.tailFromWholeFileOrRepair();
    if (!this.orderChecked) this.checkOrder(tail.seq);
    return tail;
  }

  /** Once per logger: a file kept in the other order would give us a stale tail, so refuse it with the fix. */
  private checkOrder(tailSeq: number): void {
    this.orderChecked = true;
    const otherEnd = this.order === 'newest-first' ? this.lastEventLine() : this.firstEventLine();
    const other = otherEnd === undefined ? undefined : tailFromJson(recordOf(otherEnd));
    if (other && other.seq > tailSeq) {
      const actual = this.order === 'newest-first' ? 'oldest-first' : 'newest-first';
      throw new AuditWriteError(this.path, new Error(`holds its events ${actual} (seq ${other.seq} at the ${actual === 'newest-first' ? 'top' : 'end'}), but this logger writes ${this.order}: pass order: '${actual}'`));
    }
  }

  /** The last event's line, trimmed but with its comma if it has one (in a file of either order: we may be checking the order). */
  private lastEventLine(): string | undefined {
    const end = this.order === 'oldest-first' ? this.end : findEnd(this.fd, this.knownSize - CLOSE.length);
    const line = lastLineBefore(this.fd, end + 1);
    const text = line === undefined ? '' : line.text.trim();
    return text === '[' || text === '' ? undefined : text;
  }

  private firstEventLine(): string | undefined {
    // Read from the top until the first event's line is whole (events may be large).
    for (let chunk = PAGE; ; chunk *= 4) {
      const head = readAt(this.fd, 0, Math.min(this.knownSize, chunk)).toString('utf8');
      const lines = head.split('\n');
      if (lines.length < 3 && chunk < this.knownSize) continue;
      const first = recordOf(lines[1] ?? ']');
      return first === ']' || first === '' ? undefined : first;
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

  /** The last line is not an event of ours: another tool's layout (parse it whole) or, oldest-first, a torn record in the reserve. */
  private tailFromWholeFileOrRepair(): TailState {
    try {
      return this.tailFromWholeFile();
    } catch (err) {
      if (this.order === 'oldest-first' && err instanceof AuditWriteError) return this.repairTorn();
      throw err;
    }
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
    const ending = Buffer.from(this.order === 'newest-first' ? '\n]\n' : ''); // oldest-first: tailOf adds the reserve and "]"
    let valid = false;
    try {
      valid = Array.isArray(JSON.parse(text));
    } catch {
      valid = false;
    }
    if (valid) {
      const body = text.slice(0, text.lastIndexOf(']')).trimEnd();
      this.replace(Buffer.byteLength(body), ending, true);
      return;
    }
    const cut = lastWholeEventEnd(text);
    if (cut === undefined) throw new AuditWriteError(this.path, new Error('is not a JSON array and holds no whole event to keep'));
    this.keepTorn(text.slice(cut));
    this.replace(Buffer.byteLength(text.slice(0, cut)), ending, true);
  }

  /**
   * Bytes a write left in the reserve (it failed part way, and so did giving them back) are moved
   * to `.torn` and given back to the reserve: the array's events end where they did before it.
   */
  private repairTorn(): TailState {
    const text = readAt(this.fd, 0, this.end).toString('utf8');
    const cut = lastWholeEventEnd(text);
    if (cut === undefined) throw new AuditWriteError(this.path, new Error('is not a JSON array and holds no whole event to keep'));
    this.keepTorn(text.slice(cut));
    const from = Buffer.byteLength(text.slice(0, cut));
    this.dropPrecopy(); // it may hold the bytes cut here
    writeReserve(this.fd, from, this.end);
    this.end = from;
    return this.readTail();
  }

  private keepTorn(torn: string): void {
    const fragment = torn.trim().replace(/^,\s*/, '');
    if (fragment !== '') writeFileSync(this.path + '.torn', fragment + '\n', { mode: 0o600, flag: 'a' });
    this.warn('TORN_ARRAY_REPAIRED', `${this.path}: cut ${torn.length} torn characters (kept in ${this.path}.torn)`);
  }

  /** Gives the bytes of a failed write back to the reserve; false when even that fails (the next write repairs first). */
  private restoreReserve(from: number, to: number): boolean {
    try {
      writeReserve(this.fd, from, to);
      return true;
    } catch {
      return false;
    }
  }
}

/** A line of the array as a record: without the whitespace and the comma around it. */
function recordOf(line: string): string {
  const text = line.trim();
  return text.endsWith(',') ? text.slice(0, -1).trimEnd() : text;
}

/** Where the last whole event of a damaged array ends (after its closing brace), or the opening bracket. */
function lastWholeEventEnd(text: string): number | undefined {
  let end = text.length;
  for (;;) {
    const newline = text.lastIndexOf('\n', end - 1);
    if (newline < 0) {
      const first = text.slice(0, end).trimEnd();
      return first === '[' ? first.length : undefined;
    }
    const line = recordOf(text.slice(newline + 1, end));
    if (line === '[') return text.indexOf('[', newline) + 1;
    if (line.startsWith('{')) {
      try {
        JSON.parse(line);
        return text.indexOf(line, newline) + line.length;
      } catch {
        // torn: keep looking further back
      }
    }
    end = newline;
  }
}
