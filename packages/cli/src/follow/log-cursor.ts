// A read position in a log that is still being written: each poll returns the events written
// since the last one, following the file through rotation, recreation and truncation.
//
//   same file, grown ──────────▶ read from the offset of the last whole record
//   renamed away / recreated ──▶ drain the old descriptor to its end, then read the new file whole
//   truncated or rewritten ────▶ read the file again whole
//   "read whole" keeps only the events after the last one seen when the file still holds it
//   (a newest-first JSON array is rewritten by rename on every event), else all of them.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { AuditReadError, listSegments, locateLog, parseTimestampUs, readEvents, type AuditEvent, type LogFileRef } from '@auditrail/core';
import { readLastLines } from './read-last';
import { csvParser, jsonArrayParser, jsonlParser, type RecordParser } from './record-parsers';

/** First read of a poll: small, as a JSON array's reserve makes the file far larger than what is new; doubled for larger records. */
const CHUNK = 64 << 10;
const WINDOW = 64;

/** Receives a batch of events in log order, or a complaint about a record that cannot be read. */
export interface CursorListener {
  /** New events. */
  events(batch: AuditEvent[]): void;
  /** A whole record that is not a readable event: reported and skipped. */
  problem(message: string): void;
}

interface OpenFile {
  ref: LogFileRef;
  handle: FileHandle;
  ino: number;
  dev: number;
  /** Bytes read as whole records. */
  offset: number;
  parser: RecordParser;
  /** The layout cannot be read a record at a time: reread the file whole on every change. */
  whole: boolean;
  /** Size and mtime at the last whole read. */
  wholeStamp: string;
  /** The bytes just before the offset (last newline excluded), to notice a rewrite in place. */
  window: Buffer;
}

/** Follows the audit log of a directory (jsonl, then json, then csv) or one log file. */
export class LogCursor {
  private file: OpenFile | undefined;
  /** Identity of the newest event seen, to tell a rewritten file from a new one. */
  private lastSeen: string | undefined;
  private lastSeq = 0;
  private lastTimestamp: string | undefined;

  constructor(private readonly target: string, private readonly isDirectory: boolean) {}

  /** Path of the file being followed, once there is one. */
  get path(): string | undefined {
    return this.file?.ref.path;
  }

  /**
   * Reads what was written since the last poll. The first read of a file delivers its events in
   * file order (a newest-first array gives them newest first); every later batch is in log order.
   */
  async poll(listener: CursorListener): Promise<void> {
    const ref = this.locate();
    const onDisk = ref ? await statOrUndefined(ref.path) : undefined;
    if (this.file && (!ref || !onDisk || ref.path !== this.file.ref.path || onDisk.ino !== this.file.ino || onDisk.dev !== this.file.dev)) {
      // Renamed away or replaced: what the writer added to the old file before that is still ours.
      if (!this.file.whole) await this.readOn(this.file, listener);
      await this.file.handle.close();
      this.file = undefined;
    }
    if (!ref || !onDisk) return;
    if (!this.file) {
      this.file = await openLog(ref);
      if (!this.file) return; // renamed away between the stat and the open: the next poll finds its successor
      // Segments closed before this open hold the events between the last one seen and this file's first.
      await this.catchUpSegments(listener, this.file.ino);
      await this.readWhole(this.file, listener);
      return;
    }
    const file = this.file;
    if (file.whole) {
      if (stampOf(onDisk) !== file.wholeStamp) await this.readWhole(file, listener);
    } else if (onDisk.size < file.offset || !(await windowBefore(file.handle, file.offset)).equals(file.window)) {
      await this.readWhole(file, listener); // truncated (copytruncate) or rewritten in place
    } else if (onDisk.size > file.offset && !(await this.readOn(file, listener))) {
      file.whole = true;
      await this.readWhole(file, listener);
    }
  }

  /**
   * The first read, for `tail -n N`: the newest `count` events that pass `accept`, in log order.
   * A JSONL file is read backwards from its end, as `tail` does; other formats are read whole
   * (the caller keeps the newest). Later polls carry on after the file's end.
   */
  async start(listener: CursorListener, last: { count: number; accept: (event: AuditEvent) => boolean }): Promise<void> {
    const ref = this.locate();
    if (!ref || ref.format !== 'jsonl' || this.file) return this.poll(listener);
    const file = await openLog(ref);
    if (!file) return undefined;
    const { size } = await file.handle.stat();
    let found;
    try {
      found = await readLastLines(file.handle, size, last.count, last.accept, (message) => listener.problem(`${ref.path}: ${message}`));
    } catch {
      await file.handle.close(); // truncated while read backwards: read it the ordinary way
      return this.poll(listener);
    }
    this.file = file;
    file.offset = found.end;
    file.window = await windowBefore(file.handle, file.offset);
    if (found.newest) this.noteSeen([found.newest]);
    if (found.events.length > 0) listener.events(found.events);
    return undefined;
  }

  /** Closes the file. */
  async close(): Promise<void> {
    const file = this.file;
    this.file = undefined;
    await file?.handle.close();
  }

  private locate(): LogFileRef | undefined {
    if (!this.isDirectory) return existsSync(this.target) ? locateLog(this.target) : undefined;
    try {
      return locateLog(this.target);
    } catch (err) {
      if (err instanceof AuditReadError && existsSync(this.target)) return undefined; // no log yet
      throw err;
    }
  }

  /** Reads the whole records after the offset, chunk by chunk; false when the layout cannot be read so. */
  private async readOn(file: OpenFile, listener: CursorListener): Promise<boolean> {
    let size = CHUNK;
    for (;;) {
      const chunk = await readChunk(file.handle, file.offset, size);
      if (chunk.length === 0) return true;
      const parsed = file.parser.parse(chunk);
      if (!parsed) return false;
      for (const problem of parsed.problems) listener.problem(`${file.ref.path}: ${problem}`);
      if (parsed.events.length > 0) {
        this.noteSeen(parsed.events);
        listener.events(parsed.events);
      }
      if (parsed.consumed === 0) {
        if (parsed.atEnd || chunk.length < size) return true; // nothing new, or only a torn record: wait for the rest
        size *= 2; // one record larger than the chunk
        continue;
      }
      file.offset += parsed.consumed;
      file.window = await windowBefore(file.handle, file.offset);
      if (parsed.atEnd || chunk.length < size) return true;
    }
  }

  /** Reads a file from its start: only the events after the newest one seen if it holds that one. */
  private async readWhole(file: OpenFile, listener: CursorListener): Promise<void> {
    // The very first read streams (a tail of a million events keeps only the newest few).
    const previous = this.lastSeen; // reading on below moves lastSeen to the newest event of this file
    const previousSeq = this.lastSeq;
    const first = previous === undefined;
    const events: AuditEvent[] = [];
    const collect: CursorListener = {
      events: (batch) => {
        if (first) listener.events(batch);
        else events.push(...batch);
      },
      problem: (message) => listener.problem(message),
    };
    file.offset = 0;
    file.window = Buffer.alloc(0);
    file.parser = parserFor(file.ref);
    if (file.whole) {
      const stamp = stampOf(await file.handle.stat());
      const all = await readArrayWhole(file.handle);
      if (!all) return; // mid-rewrite by another tool: try again on the next change
      file.wholeStamp = stamp;
      events.push(...all);
    } else if (!(await this.readOn(file, collect))) {
      if (!first) [this.lastSeen, this.lastSeq] = [previous, previousSeq]; // what was collected is read again, whole
      file.whole = true;
      await this.readWhole(file, listener);
      return;
    } else if (first) {
      return;
    }
    const ordered = inLogOrder(events);
    const seen = previous === undefined ? -1 : ordered.findIndex((e) => identityOf(e) === previous);
    const fresh = ordered.slice(seen + 1);
    const newest = ordered[ordered.length - 1];
    if (newest) {
      this.lastSeen = identityOf(newest);
      this.lastSeq = typeof newest.seq === 'number' ? newest.seq : 0;
      this.lastTimestamp = newest.timestamp;
    }
    if (fresh.length > 0) listener.events(fresh);
  }

  /** Remembers the newest event: the highest seq, or the last in file order for a log without one. */
  private noteSeen(batch: AuditEvent[]): void {
    for (const event of batch) {
      const seq = typeof event.seq === 'number' && event.seq > 0 ? event.seq : undefined;
      if (seq === undefined || seq >= this.lastSeq || this.lastSeen === undefined) {
        this.lastSeen = identityOf(event);
        this.lastSeq = seq ?? 0;
        this.lastTimestamp = event.timestamp;
      }
    }
  }

  /**
   * The logger rotates its journal by renaming the live file into a segment named by its time
   * range (`audit_log.<first>_<last>.jsonl`). Several rotations between two polls leave segments
   * this cursor never had open: read their events after the newest one seen, oldest first, up to
   * the file just opened (a rename keeps the inode): if that one was rotated too, it and the
   * segments after it are read on the next polls, in order.
   */
  private async catchUpSegments(listener: CursorListener, openIno: number): Promise<void> {
    if (!this.isDirectory || this.lastSeq === 0 || this.lastTimestamp === undefined) return;
    const sinceMs = Math.floor(parseTimestampUs(this.lastTimestamp) / 1000);
    for (const segment of listSegments(this.target)) {
      if ((await statOrUndefined(segment.path))?.ino === openIno) return;
      if (!(segment.lastMs >= sinceMs)) continue;
      const fresh: AuditEvent[] = [];
      for await (const event of readEvents({ path: segment.path, format: 'jsonl' })) {
        if (typeof event.seq === 'number' && event.seq > this.lastSeq) fresh.push(event);
      }
      if (fresh.length === 0) continue;
      this.noteSeen(fresh);
      listener.events(fresh);
    }
  }
}

/** An event's id, or for a log written without ids (the seed's five CSV columns) its content. */
function identityOf(event: AuditEvent): string {
  return event.id || JSON.stringify([event.timestamp, event.action_type, event.status, event.details, event.error]);
}

/** Sorts by seq where the log has one, else keeps file order. */
export function inLogOrder(events: AuditEvent[]): AuditEvent[] {
  return events
    .map((event, index) => ({ event, key: typeof event.seq === 'number' && event.seq > 0 ? event.seq : index }))
    .sort((a, b) => a.key - b.key)
    .map((entry) => entry.event);
}

async function openLog(ref: LogFileRef): Promise<OpenFile | undefined> {
  let handle: FileHandle;
  try {
    handle = await open(ref.path, 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const info = await handle.stat();
  return { ref, handle, ino: info.ino, dev: info.dev, offset: 0, parser: parserFor(ref), whole: false, wholeStamp: '', window: Buffer.alloc(0) };
}

function parserFor(ref: LogFileRef): RecordParser {
  if (ref.format === 'jsonl') return jsonlParser();
  if (ref.format === 'json') return jsonArrayParser();
  return csvParser(ref.path);
}

async function readChunk(handle: FileHandle, position: number, size: number): Promise<Buffer> {
  const buffer = Buffer.alloc(size);
  let got = 0;
  while (got < size) {
    const { bytesRead } = await handle.read(buffer, got, size - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return buffer.subarray(0, got);
}

/** The bytes before `offset`, without the newline that ends the last record (a JSON array's writer turns it into a comma). */
async function windowBefore(handle: FileHandle, offset: number): Promise<Buffer> {
  const end = Math.max(0, offset - 1);
  const start = Math.max(0, end - WINDOW);
  return readChunk(handle, start, end - start);
}

async function readArrayWhole(handle: FileHandle): Promise<AuditEvent[] | undefined> {
  const { size } = await handle.stat();
  const text = (await readChunk(handle, 0, size)).toString('utf8');
  try {
    const value = JSON.parse(text) as unknown;
    return Array.isArray(value) ? (value as AuditEvent[]) : undefined;
  } catch {
    return undefined;
  }
}

async function statOrUndefined(path: string): Promise<{ ino: number; dev: number; size: number; mtimeMs: number } | undefined> {
  try {
    return await stat(path);
  } catch {
    return undefined;
  }
}

function stampOf(info: { size: number; mtimeMs: number }): string {
  return `${info.size}:${info.mtimeMs}`;
}
