// Where commands write: buffered text to a stream with backpressure, or to a file that appears whole or not at all.
import { randomBytes } from 'node:crypto';
import { constants, existsSync, linkSync, realpathSync, statSync } from 'node:fs';
import { open, rename, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { AuditError, AuditWriteError, InvalidOptionError } from '@auditrail/core';

const CHUNK = 64 * 1024;

/** Text output of a command. */
export interface TextSink {
  /** Buffers text; returns a promise only when the caller must wait (a full buffer being written). */
  write(text: string): Promise<void> | undefined;
  /** Writes what is buffered and finishes the output. */
  end(): Promise<void>;
}

/** The reader on the other side of a pipe went away (`auditrail show DIR | head`): stop quietly. */
export class OutputClosedError extends Error {
  constructor() {
    super('output closed by the reader');
    this.name = 'OutputClosedError';
  }
}

/** Buffered writes to a stream (stdout), waiting for 'drain' when it is full. */
export class StreamOutput implements TextSink {
  private buffer = '';
  private failure: Error | undefined;
  private waiting: (() => void) | undefined;

  constructor(private readonly stream: NodeJS.WritableStream) {
    stream.on('error', (err: NodeJS.ErrnoException) => {
      this.failure = err.code === 'EPIPE' ? new OutputClosedError() : err;
      this.waiting?.();
    });
  }

  write(text: string): Promise<void> | undefined {
    this.buffer += text;
    return this.buffer.length >= CHUNK ? this.drain() : undefined;
  }

  async end(): Promise<void> {
    await this.drain();
  }

  private async drain(): Promise<void> {
    if (this.failure) throw this.failure;
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk === '' || this.stream.write(chunk)) return;
    await new Promise<void>((done) => {
      this.waiting = done;
      this.stream.once('drain', done);
    });
    this.waiting = undefined;
    if (this.failure) throw this.failure;
  }
}

/**
 * A file written under a temporary name next to its destination, synced, then moved into
 * place: a failed run never leaves half a file, and an existing file is replaced only with
 * `overwrite`.
 */
export class AtomicFileOutput implements TextSink {
  private buffer = '';

  private constructor(
    /** Final path of the file. */
    readonly path: string,
    private readonly tempPath: string,
    private readonly handle: FileHandle,
    private readonly overwrite: boolean,
  ) {}

  /** Opens the temporary file; refuses an existing destination unless `overwrite`. */
  static async create(path: string, overwrite: boolean): Promise<AtomicFileOutput> {
    const target = resolve(path);
    if (isDirectory(target)) throw new InvalidOptionError('--out', `${path} is a directory; give a file name`);
    if (!overwrite && existsSync(target)) throw new InvalidOptionError('--out', `${path} already exists; add --force to replace it`);
    const tempPath = join(dirname(target), `.${basename(target)}.${randomBytes(6).toString('hex')}.tmp`);
    let handle: FileHandle;
    try {
      // Exported audit events are as sensitive as the log itself: owner-only, like the log files.
      handle = await open(tempPath, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL, 0o600);
    } catch (err) {
      throw new AuditWriteError(path, err);
    }
    return new AtomicFileOutput(target, tempPath, handle, overwrite);
  }

  write(text: string): Promise<void> | undefined {
    this.buffer += text;
    return this.buffer.length >= CHUNK ? this.drain() : undefined;
  }

  /** Syncs the data and moves the file into place. */
  async end(): Promise<void> {
    try {
      await this.drain();
      await this.handle.sync();
      await this.handle.close();
      if (this.overwrite) await rename(this.tempPath, this.path);
      else {
        // link() fails if the destination appeared meanwhile: never clobber without --force.
        linkSync(this.tempPath, this.path);
        await unlink(this.tempPath);
      }
    } catch (err) {
      await this.abort();
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') throw new InvalidOptionError('--out', `${this.path} already exists; add --force to replace it`);
      throw err instanceof AuditError ? err : new AuditWriteError(this.path, err);
    }
  }

  /** Removes the temporary file; the destination is untouched. */
  async abort(): Promise<void> {
    await this.handle.close().catch(() => undefined);
    await unlink(this.tempPath).catch(() => undefined);
  }

  private async drain(): Promise<void> {
    const chunk = this.buffer;
    this.buffer = '';
    if (chunk === '') return;
    try {
      await this.handle.write(chunk);
    } catch (err) {
      throw new AuditWriteError(this.path, err);
    }
  }
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether two paths name the same existing file (through links and relative paths). */
export function sameFile(a: string, b: string): boolean {
  try {
    return realpathSync(a) === realpathSync(b);
  } catch {
    return false;
  }
}
