// Who holds a lock: the holder line (`pid host token start-time namespace`), how old a lock file is, whether its
// writer is gone, and each writer's holder file, written once and then hard-linked as the lock file at each
// acquisition, so that taking and releasing the lock creates and frees no inode (on ext4 without a journal,
// each new inode scans past the ones freed in the last minute: a lock file created and removed every turn got
// slower and slower).
import { closeSync, fstatSync, futimesSync, linkSync, openSync, readdirSync, readFileSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { isMainThread, threadId } from 'node:worker_threads';
import { cannotLink } from './fs-util';
import { pidNamespace, processAlive, processStartTime, sameProcessSpace } from './process-info';

/** What a lock, breaker or holder file says of its writer. */
export interface Holder {
  pid: number;
  host: string;
  token: string;
  /** Start time of the holder process (Linux clock ticks since boot), when known: tells a reused pid apart. */
  started: string | undefined;
  /** The holder's pid namespace, when known (written since 0.1: older lock files lack it). */
  namespace: string | undefined;
  /** `thread:<id>` for a worker thread's lock: its pid outlives it (`terminate()` runs no exit handler), so it is judged by age. */
  thread: string | undefined;
}

/**
 * A lock file as read: its holder; 'empty' when it holds no whole line (its writer is between creating and
 * filling it, or died there); 'unreadable' when it cannot be read (another user's file, an I/O error);
 * undefined when it is gone.
 */
export type HolderRead = Holder | 'empty' | 'unreadable' | undefined;

const HOST = hostname();
const OWN_START = processStartTime(process.pid);
const OWN_NAMESPACE = pidNamespace();
/** Another host's holder file (not the lock) is removed only once unused this long: until then it may be a live writer's. */
const FOREIGN_HOLDER_FILE_MS = 24 * 3600_000;

/** The line a writer with `token` writes into its lock, breaker and holder files ('-' for what is unknown). */
export function holderLine(token: string): string {
  const thread = isMainThread ? '' : ` thread:${threadId}`;
  return `${process.pid} ${HOST} ${token} ${OWN_START ?? '-'} ${OWN_NAMESPACE ?? '-'}${thread}\n`;
}

/** A field of a holder line, or undefined when absent or written as '-' (unknown). */
function known(field: string | undefined): string | undefined {
  return field === undefined || field === '-' ? undefined : field;
}

/**
 * The order of a holder line's fields: a lock's (`pid host token start namespace [thread]`), or a delivery
 * lease's (`pid start host token namespace [thread]`), whose order predates the lock's and is kept so that
 * loggers of both versions agree on a lease (a lease line always has its start field, '-' when unknown).
 */
export type HolderLayout = 'lock' | 'lease';

/** Reads the holder line of a lock, breaker or holder file, or of a delivery lease. */
export function readHolder(path: string, layout: HolderLayout = 'lock'): HolderRead {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ENOENT' ? undefined : 'unreadable';
  }
  const fields = text.trim().split(' ');
  const [pid, host, token, started] = layout === 'lock' ? fields : [fields[0], fields[2], fields[3], fields[1]];
  const [namespace, thread] = fields.slice(4);
  if (!pid || !host || !token || (layout === 'lease' && !started)) return 'empty';
  return { pid: Number(pid), host, token, started: known(started), namespace: known(namespace), thread: known(thread) };
}

/** Whether `read` names the writer with `token`. */
export function isHeldBy(read: HolderRead, token: string): boolean {
  return typeof read === 'object' && read.token === token;
}

/**
 * Whether the file at `path` was last linked, unlinked, written or created more than `ms` ago. The ctime
 * counts: a linked lock's mtime is when its holder file was written, maybe long before the lock was taken,
 * and removing another link of it (a holder file) only makes it younger.
 */
export function olderThan(path: string, ms: number): boolean {
  try {
    const stats = statSync(path);
    return Date.now() - Math.max(stats.mtimeMs, stats.ctimeMs) > ms;
  } catch {
    return false;
  }
}

/**
 * Whether the lock (or breaker) file at `path`, read as `read`, was left by a writer that is gone: on this
 * host and pid namespace, a dead pid or one reused by a later process (or, for a worker thread's, a live
 * pid and a file older than `staleMs`); otherwise (another host, another pid namespace, a file we cannot
 * read), older than `staleMs`; an empty one, older than `emptyGraceMs`.
 */
export function isLeftBehind(read: HolderRead, path: string, staleMs: number, emptyGraceMs: number): boolean {
  if (read === undefined) return false;
  if (read === 'empty') return olderThan(path, emptyGraceMs);
  if (read === 'unreadable' || !sameProcessSpace(read.host, read.namespace, HOST, OWN_NAMESPACE)) return olderThan(path, staleMs);
  if (!processAlive(read.pid)) return true;
  // Alive, but is it the holder, or a later process that reused its pid (a restarted container, even this process)?
  const started = read.started === undefined ? undefined : processStartTime(read.pid);
  if (started !== undefined && started !== read.started) return true;
  return read.thread !== undefined && olderThan(path, staleMs);
}

/**
 * Removes the holder files beside `lockPath` whose writers are gone (killed before they could remove their
 * own), except `keep`: on this host, those of dead writers; from elsewhere (which cannot be checked), those
 * unused for a day. A holder file that is the lock now (two links) is left to the lock's own rules.
 */
export function sweepHolderFiles(lockPath: string, keep: string, emptyGraceMs: number): void {
  const dir = dirname(lockPath);
  const prefix = `${basename(lockPath)}.holder-`;
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (!name.startsWith(prefix) || path === keep) continue;
    try {
      if (statSync(path).nlink > 1) continue;
    } catch {
      continue;
    }
    // On this host the pid tells; from elsewhere only the age does, and a live writer's may sit unused for long.
    if (!isLeftBehind(readHolder(path), path, FOREIGN_HOLDER_FILE_MS, emptyGraceMs)) continue;
    try {
      unlinkSync(path);
    } catch {
      // Another writer swept it first.
    }
  }
}

/** Holder files of this thread. */
const live = new Set<HolderFile>();

/** Removes every holder file of this thread (at exit, once its locks are released). */
export function removeHolderFiles(): void {
  for (const holder of [...live]) {
    try {
      holder.remove();
    } catch {
      // The others are still removed.
    }
  }
}

/** One writer's holder file beside the lock (`<lock>.holder-<token>`), holding its holder line. */
export class HolderFile {
  /**
   * The holder file, open while it exists: its inode cannot be freed (nor its number given to another
   * writer's holder file) while this writer may still take it for its lock.
   */
  private file: { fd: number; ino: number; dev: number } | undefined;
  /** False once this filesystem refused a hard link. */
  private linkable = true;
  /** When the holder file's mtime was last set to now (ms). */
  private stampedAt = 0;
  private readonly line: string;

  constructor(
    readonly path: string,
    private readonly token: string,
  ) {
    this.line = holderLine(token);
  }

  /**
   * Links the holder file as `target`: true when that took the lock, false when `target` is another
   * writer's, undefined when the filesystem cannot hard-link (the caller creates the lock file instead).
   * Throws what else fails (a missing or unwritable directory), as creating a lock file would.
   */
  linkAs(target: string): boolean | undefined {
    if (!this.linkable) return undefined;
    for (let attempt = 0; ; attempt++) {
      if (!this.file) this.create();
      this.stamp();
      try {
        linkSync(this.path, target);
        return true;
      } catch (err) {
        // Over NFS a link whose reply was lost is sent again and fails with EEXIST although it was made: ours all the same.
        if ((err as NodeJS.ErrnoException).code === 'EEXIST') return this.isLinkedAt(target) || isHeldBy(readHolder(target), this.token);
        if (cannotLink(err)) {
          this.linkable = false;
          this.remove();
          return undefined;
        }
        // Removed under us (a directory cleaned by hand): made again, once.
        if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt > 0) throw err;
        this.remove();
      }
    }
  }

  /**
   * Sets the holder file's mtime to now (at most once a second), so that the lock's mtime says within a second
   * when it was taken, as an O_EXCL lock file's does (older versions judge a lock by its mtime alone).
   */
  private stamp(): void {
    const now = Date.now();
    if (now - this.stampedAt < 1000) return;
    try {
      futimesSync(this.file!.fd, now / 1000, now / 1000);
      this.stampedAt = now;
    } catch {
      // Best effort: the ctime that the link sets tells this version the lock's age.
    }
  }

  /** Whether `target` is this holder file (one stat): the lock is still ours, not broken and taken since. */
  isLinkedAt(target: string): boolean {
    if (!this.file) return false;
    try {
      const stats = statSync(target, { throwIfNoEntry: false });
      return stats !== undefined && stats.ino === this.file.ino && stats.dev === this.file.dev;
    } catch {
      return false;
    }
  }

  /** Closes and removes the holder file (when its writer closes or exits); a later link makes it again. */
  remove(): void {
    live.delete(this);
    if (!this.file) return;
    const { fd } = this.file;
    this.file = undefined;
    try {
      unlinkSync(this.path);
    } catch {
      // Gone already.
    }
    closeSync(fd);
  }

  /** Writes the holder file whole before it is ever linked: a linked lock never reads as empty. */
  private create(): void {
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      unlinkSync(this.path); // ours (the token is in the name), left by a write that failed
      fd = openSync(this.path, 'wx', 0o600);
    }
    try {
      writeSync(fd, this.line);
      const stats = fstatSync(fd);
      this.file = { fd, ino: stats.ino, dev: stats.dev };
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(this.path);
      } catch {
        // The write's error is the one to report.
      }
      throw err;
    }
    live.add(this);
  }
}
