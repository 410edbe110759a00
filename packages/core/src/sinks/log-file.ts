// What the logger needs of a local log file beyond the Sink contract: opening, repair and the tail.
import { closeSync, fdatasync, fdatasyncSync, openSync, fstatSync, statSync, type Stats } from 'node:fs';
import { dirname } from 'node:path';
import { AuditWriteError, InvalidOptionError } from '../errors';
import type { AuditEvent } from '../event';
import { isSymlink, syncDirectory } from '../files/fs-util';
import type { Sink, SinkContext } from '../sink';

/** Where a log ends: the last record's seq and hash (seq 0 and no hash for an empty log). */
export interface TailState {
  /** Seq of the last record, 0 when empty. */
  seq: number;
  /** Hash of the last record, undefined when empty or unsealed. */
  hash: string | undefined;
}

/** Options common to the local log files. */
export interface LogFileOptions {
  /** Allow the log file to be a symbolic link (refused by default). */
  allowSymlink?: boolean;
}

/** A local file the logger writes under its directory lock. */
export abstract class LogFile implements Sink {
  abstract readonly name: string;
  /** The open descriptor, -1 when closed. */
  private descriptor = -1;
  /** The inode of `descriptor`, read once per descriptor (the file a descriptor names never changes). */
  private descriptorIno: number | undefined;
  /** Size of the file as this writer last left it; -1 before the first lease. */
  protected knownSize = -1;
  protected context: SinkContext | undefined;
  /** Whether data was written through the descriptor since the last flush began. */
  protected unsynced = false;
  /** Whether a file was renamed into or out of the directory since the last flush began (the entry needs a directory fsync). */
  protected renamed = false;
  /** The directory of those renames when it is not the path's own (the target of a symbolic link). */
  protected renamedIn: string | undefined;
  /** A sync that failed on a descriptor closed since: the next flush reports it instead of claiming durability. */
  private lostSync: AuditWriteError | undefined;
  /** Asynchronous syncs in flight, per descriptor: such a descriptor is closed when they end, not before. */
  private readonly syncing = new Map<number, number>();
  /** Descriptors let go of while a sync on them was in flight. */
  private readonly closeWhenSynced = new Set<number>();

  constructor(readonly path: string, protected readonly options: LogFileOptions = {}) {}

  /** The descriptor of the file, -1 when closed. */
  protected get fd(): number {
    return this.descriptor;
  }

  protected set fd(fd: number) {
    this.descriptor = fd;
    this.descriptorIno = undefined;
  }

  /** Whether the file is open. */
  get isOpen(): boolean {
    return this.fd >= 0;
  }

  /** Opens the file; the logger holds the directory lock. */
  open(context: SinkContext): void {
    this.context = context;
    this.knownSize = -1;
    if (!this.options.allowSymlink && isSymlink(this.path)) {
      throw new InvalidOptionError('allowSymlink', `${this.path} is a symbolic link; refusing to follow it (pass allowSymlink: true to allow)`);
    }
    try {
      this.fd = openSync(this.path, this.openFlags(), 0o600);
      const stat = fstatSync(this.fd);
      this.descriptorIno = stat.ino;
      if (!stat.isFile()) throw new Error(`${this.path} is not a regular file`);
      if ((stat.mode & 0o077) !== 0) {
        context.warn('LOOSE_FILE_MODE', `${this.path} has mode ${(stat.mode & 0o777).toString(8)}; audit logs should be 0600`);
      }
    } catch (err) {
      if (this.fd >= 0) closeSync(this.fd);
      this.fd = -1;
      throw new AuditWriteError(this.path, err);
    }
  }

  /** Flags for openSync. */
  protected abstract openFlags(): string;

  /**
   * Called under the lock when this writer's lease starts: prepares the file (header, repair of a
   * torn tail) and returns the tail when another writer changed the file since our last write.
   */
  abstract onLease(): TailState | undefined;

  /** Writes one event; called under the lock. */
  abstract write(event: AuditEvent, json: string): void;

  /**
   * The events after `seq`, oldest first, read back from the end of the file (under the lock,
   * after onLease). Used to bring a secondary file that a crash left behind up to date.
   */
  abstract eventsAfter(seq: number): RecordedEvent[];

  /** Forces written data (and a rename in the directory) to stable storage. */
  flush(): Promise<void> {
    const lost = this.lostSync;
    if (lost) {
      this.lostSync = undefined;
      return Promise.reject(lost);
    }
    if (this.fd < 0) return Promise.resolve();
    const fd = this.fd;
    const renamed = this.renamed;
    this.unsynced = false;
    this.renamed = false;
    this.syncing.set(fd, (this.syncing.get(fd) ?? 0) + 1);
    return new Promise<void>((resolve, reject) =>
      fdatasync(fd, (err) => {
        this.syncEnded(fd);
        try {
          if (err) throw err;
          if (renamed) syncDirectory(this.renamedIn ?? dirname(this.path));
          resolve();
        } catch (failed) {
          this.unsynced = true;
          this.renamed ||= renamed;
          reject(new AuditWriteError(this.path, failed));
        }
      }),
    );
  }

  /**
   * Whether our descriptor no longer names the file at our path (moved, deleted, rotated or
   * renamed over by another writer); `missing` tells that nothing is at the path now. When it is
   * still ours, `size` is the file's size (from the same stat: one system call per lease).
   */
  protected replacedOnDisk(): { replaced: boolean; missing: boolean; size: number } {
    let onDisk: Stats | undefined;
    try {
      onDisk = statSync(this.path, { throwIfNoEntry: false });
    } catch {
      onDisk = undefined;
    }
    // While our descriptor is open its inode cannot be reused: the same number is the same file.
    const ours = (this.descriptorIno ??= fstatSync(this.fd).ino);
    if (onDisk === undefined) return { replaced: true, missing: true, size: -1 };
    return onDisk.ino === ours ? { replaced: false, missing: false, size: onDisk.size } : { replaced: true, missing: false, size: -1 };
  }

  /**
   * Closes the descriptor to reopen the path (after a rotation or a rename). What was written
   * through it and not synced yet is synced first: the group commit of fsync 'always' syncs only
   * the current descriptor, and writers may be waiting on it for events written here.
   */
  protected closeForReopen(): void {
    if (this.fd < 0) return;
    const fd = this.fd;
    this.fd = -1;
    try {
      if (this.unsynced) fdatasyncSync(fd);
      this.unsynced = false;
    } catch (err) {
      this.lostSync = new AuditWriteError(this.path, err);
    } finally {
      this.closeDescriptor(fd);
    }
  }

  /**
   * Closes a descriptor no longer used, or, while a sync on it is in flight, once that sync ends:
   * closed under it, the sync would fail with EBADF or, the number reused, sync another file.
   */
  protected closeDescriptor(fd: number): void {
    if (this.syncing.has(fd)) this.closeWhenSynced.add(fd);
    else closeSync(fd);
  }

  private syncEnded(fd: number): void {
    const left = (this.syncing.get(fd) ?? 1) - 1;
    if (left > 0) return void this.syncing.set(fd, left);
    this.syncing.delete(fd);
    if (this.closeWhenSynced.delete(fd)) {
      try {
        closeSync(fd);
      } catch {
        // Nothing more can be done with it.
      }
    }
  }

  /** Settles once the file's background work (a copy in preparation) is over, removed files included. */
  settled(): Promise<void> {
    return Promise.resolve();
  }

  /** Closes the file. */
  close(): void {
    if (this.fd >= 0) {
      this.closeDescriptor(this.fd);
      this.fd = -1;
    }
  }

  protected warn(code: string, message: string): void {
    this.context?.warn(code, message);
  }
}

/** An event read back from a log file, with its JSON line. */
export interface RecordedEvent {
  /** The event. */
  event: AuditEvent;
  /** Its JSON line, as the other files hold it. */
  json: string;
}

/** Parses a JSON record line into a tail state, or undefined when it is not one of ours. */
export function tailFromJson(text: string): TailState | undefined {
  try {
    const record = JSON.parse(text) as Partial<AuditEvent>;
    if (typeof record.seq !== 'number') return undefined;
    return { seq: record.seq, hash: typeof record.hash === 'string' ? record.hash : undefined };
  } catch {
    return undefined;
  }
}
