// A sink's persisted place in the journal: `{rootLogDir}/.delivery/<sink>.cursor`, replaced atomically.
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { ensurePrivateDir } from '../files/fs-util';
import type { JournalPosition } from './journal-reader';

/** The cursor file's content (version 1). */
interface CursorFile extends JournalPosition {
  /** Format version. */
  v: 1;
  /** Sink name, for people reading the file. */
  sink: string;
  /** When it was written (ISO 8601). */
  updated: string;
}

/** File name of a sink's cursor: the sink name with anything but [A-Za-z0-9._-] percent-encoded. */
export function cursorFileName(sink: string): string {
  return sink.replace(/[^A-Za-z0-9._-]/g, (c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0')}`) + '.cursor';
}

/**
 * Loads and saves one sink's cursor. Writes are atomic (temporary file, fsync, rename), so a
 * crash leaves the old or the new cursor, never a torn one, and throttled to one per
 * `minIntervalMs` (the latest position wins; `persist()` forces it): a cursor a moment stale
 * only means a few batches are sent again after a crash, while an fsync per batch would cap
 * delivery at the disk's sync rate.
 */
export class CursorStore {
  /** Path of the cursor file. */
  readonly path: string;
  private wanted: JournalPosition | undefined;
  private saved: JournalPosition | undefined;
  private lastWrite = 0;
  private timer: NodeJS.Timeout | undefined;

  /**
   * @param onError told when a deferred write fails (a direct `save`/`persist` throws instead)
   */
  constructor(
    readonly dir: string,
    private readonly sink: string,
    private readonly minIntervalMs = 100,
    private readonly onError: (err: unknown) => void = () => undefined,
  ) {
    this.path = join(dir, cursorFileName(sink));
  }

  /** The saved position, or undefined when there is none (or it is unreadable: reported by `onBad`). */
  load(onBad: (message: string) => void): JournalPosition | undefined {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') onBad(`cannot read ${this.path}: ${(err as Error).message}`);
      return undefined;
    }
    try {
      const data = JSON.parse(text) as Partial<CursorFile>;
      if (data.v === 1 && typeof data.file === 'string' && isCount(data.ino, -1) && isCount(data.offset, 0) && isCount(data.seq, 0)) {
        this.saved = { file: data.file, ino: data.ino, offset: data.offset, seq: data.seq };
        this.wanted = this.saved;
        return this.saved;
      }
      onBad(`${this.path} is not a version 1 cursor`);
    } catch (err) {
      onBad(`${this.path} is not valid JSON: ${(err as Error).message}`);
    }
    return undefined;
  }

  /** Records a position to save: written now, or within `minIntervalMs` when the last write was more recent. */
  save(position: JournalPosition): void {
    this.wanted = position;
    if (this.saved && samePosition(this.saved, position)) return;
    const since = Date.now() - this.lastWrite;
    if (since >= this.minIntervalMs) {
      this.persist();
      return;
    }
    if (!this.timer) {
      this.timer = setTimeout(() => {
        try {
          this.persist();
        } catch (err) {
          this.onError(err);
        }
      }, this.minIntervalMs - since);
      this.timer.unref();
    }
  }

  /** Drops a position not yet written: another logger owns the cursor now. */
  cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.wanted = this.saved;
  }

  /** Writes the latest position now if it is not on disk yet (flush, close). Synchronous: one small file. */
  persist(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    const position = this.wanted;
    if (!position || (this.saved && samePosition(this.saved, position))) return;
    this.lastWrite = Date.now();
    ensurePrivateDir(this.dir);
    const data: CursorFile = { v: 1, sink: this.sink, ...position, updated: new Date().toISOString() };
    const temp = `${this.path}.tmp-${process.pid}`;
    try {
      const fd = openSync(temp, 'w', 0o600);
      try {
        writeSync(fd, JSON.stringify(data) + '\n');
        fsyncSync(fd);
      } finally {
        closeSync(fd);
      }
      renameSync(temp, this.path);
    } catch (err) {
      try {
        unlinkSync(temp);
      } catch {
        // never created
      }
      throw err;
    }
    this.saved = position;
  }

  /** The latest position (committed; on disk within `minIntervalMs`). */
  get current(): JournalPosition | undefined {
    return this.wanted ?? this.saved;
  }
}

function samePosition(a: JournalPosition, b: JournalPosition): boolean {
  return a.ino === b.ino && a.offset === b.offset && a.seq === b.seq && a.file === b.file;
}

function isCount(value: unknown, min: number): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= min;
}
