// A copy of an oldest-first JSON array prepared in the background when its reserve runs low, so
// that the regrowth copies only the bytes appended since, instead of the whole file while an
// event waits.
//
//   file:  [ events ........................ | appended since | reserve ··· \n]\n
//   copy:  [ events ........................ | (copied at the swap)         ··· (larger reserve) ··· \n]\n
//          └── copied in the background ────┘
//
// Events are only ever written at or after the end of the events, so every byte before the end
// seen between two writes is final: the background copies up to there (the kernel's copy, then
// catch-up passes) while events go on being written, and the swap, on the logging path and under
// the lock, copies the rest, syncs and renames. Until that rename the copy is not the log.
import { closeSync, constants, fstatSync, openSync, unlinkSync } from 'node:fs';
import { copyFile, open, type FileHandle } from 'node:fs/promises';
import { CLOSE, reserveFor, writeReserve } from './json-array-layout';

/** Catch-up passes stop once this little is left to copy: the swap copies it. */
const SMALL_DELTA = 256 * 1024;
/** At most this many catch-up passes (a writer faster than the copy would never let them end). */
const MAX_PASSES = 8;
/** Bytes of reserve written per turn of the event loop (256 page writes, well under a millisecond). */
const RESERVE_SLICE = 1 << 20;
/** Bytes moved per read and write of a catch-up pass. */
const CHUNK = 1 << 20;

/** What the copy is of: a file, its inode, where its closing bracket starts, and where its events end now. */
export interface PrecopySource {
  /** The file renamed over at the swap (the symbolic link's target, when allowed). */
  target: string;
  /** Its inode when the copy starts: a file replaced meanwhile makes the copy useless. */
  ino: number;
  /** Where its closing "\n]\n" starts. */
  closeAt: number;
  /** Where its events end now (called between writes, on the main thread): every byte before is final. */
  stableEnd: () => number;
}

/** A background copy of a JSON array file, with a reserve as large as a regrowth gives. */
export class JsonArrayPrecopy {
  /** Where the copy's closing bracket starts. */
  readonly closeAt: number;
  /** Settles once the background work is over: the copy ready, or given up and removed. */
  readonly settled: Promise<void>;
  /** Bytes before this offset are in the copy as they are in the file. */
  private copiedTo: number;
  private state: 'running' | 'ready' | 'taken' | 'dropped' = 'running';
  private handle: FileHandle | undefined;
  private tempIno = -1;

  constructor(
    private readonly source: PrecopySource,
    /** Path of the copy, beside the target. */
    readonly temp: string,
  ) {
    this.closeAt = source.closeAt + reserveFor(source.closeAt);
    this.copiedTo = source.stableEnd();
    this.settled = this.run().catch(() => this.cleanUp());
  }

  /** Whether the copy is complete up to `copiedTo`, synced, and can be taken. */
  get ready(): boolean {
    return this.state === 'ready';
  }

  /** The inode of the file copied. */
  get ino(): number {
    return this.source.ino;
  }

  /** Where the closing bracket of the file copied starts. */
  get sourceCloseAt(): number {
    return this.source.closeAt;
  }

  /**
   * Opens the ready copy for the swap; undefined unless it is ready and still at its path. The
   * caller copies the file's bytes from `copiedTo` on, syncs the descriptor and renames `temp`.
   */
  take(): { fd: number; copiedTo: number } | undefined {
    if (this.state !== 'ready') return undefined;
    let fd = -1;
    try {
      fd = openSync(this.temp, constants.O_RDWR);
      if (fstatSync(fd).ino !== this.tempIno) throw new Error('the copy was removed'); // another writer's clean-up
    } catch {
      if (fd >= 0) closeSync(fd);
      this.drop();
      return undefined;
    }
    this.state = 'taken';
    const handle = this.handle;
    this.handle = undefined;
    void handle?.close().catch(() => undefined);
    return { fd, copiedTo: this.copiedTo };
  }

  /** Gives the copy up and removes it (taken too: a swap that failed); background work still running stops at its next step. */
  drop(): void {
    if (this.state === 'dropped') return;
    const running = this.state === 'running';
    this.state = 'dropped';
    unlinkQuietly(this.temp);
    if (!running) void this.cleanUp();
  }

  private async run(): Promise<void> {
    let source: FileHandle | undefined;
    try {
      await copyFile(this.source.target, this.temp, constants.COPYFILE_EXCL); // in the kernel: copy_file_range
      this.check();
      this.handle = await open(this.temp, 'r+');
      this.tempIno = (await this.handle.stat()).ino;
      source = await open(this.source.target, 'r');
      if ((await source.stat()).ino !== this.source.ino) throw new Error('the file was replaced');
      this.check();
      // The old closing bracket becomes reserve, then a larger reserve and a new bracket: a page per
      // write (see pageSlices), a slice of them per turn of the event loop, so that no turn is long.
      for (let at = this.source.closeAt; at < this.closeAt; ) {
        const to = Math.min(this.closeAt, at + RESERVE_SLICE);
        writeReserve(this.handle.fd, at, to, to === this.closeAt ? CLOSE : undefined);
        at = to;
        await new Promise((resolve) => setImmediate(resolve));
        this.check();
      }
      for (let pass = 0; pass < MAX_PASSES; pass++) {
        this.check();
        const stable = this.source.stableEnd();
        if (stable - this.copiedTo <= SMALL_DELTA) break;
        await copyRange(source, this.handle, this.copiedTo, stable);
        this.copiedTo = stable;
      }
      this.check();
      await this.handle.datasync();
      this.check();
      this.state = 'ready';
    } finally {
      await source?.close().catch(() => undefined);
    }
  }

  private check(): void {
    if (this.state === 'dropped') throw new Error('dropped');
  }

  private async cleanUp(): Promise<void> {
    this.state = 'dropped';
    unlinkQuietly(this.temp);
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close().catch(() => undefined);
  }
}

async function copyRange(from: FileHandle, to: FileHandle, start: number, end: number): Promise<void> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, end - start));
  for (let at = start; at < end; ) {
    const { bytesRead } = await from.read(buffer, 0, Math.min(buffer.length, end - at), at);
    if (bytesRead === 0) throw new Error(`the file ends before ${end}`);
    let written = 0;
    while (written < bytesRead) written += (await to.write(buffer, written, bytesRead - written, at + written)).bytesWritten;
    at += bytesRead;
  }
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // Not there (yet, or any more).
  }
}
