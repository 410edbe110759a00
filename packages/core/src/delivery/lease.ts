// Who delivers a sink's events from a shared log directory: `.delivery/<sink>.lease`, held by one logger at a time.
import { linkSync, renameSync, statSync, unlinkSync, utimesSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { isMainThread, threadId } from 'node:worker_threads';
import { createExclusive, ensurePrivateDir } from '../files/fs-util';
import { isHeldBy, isLeftBehind, readHolder, type HolderRead } from '../files/lock-holder';
import { pidNamespace, processStartTime } from '../files/process-info';

const HOST = hostname();
const OWN_NAMESPACE = pidNamespace();

/** A lease file still empty (or cut short) after this long was left by a crash between its creation and its write. */
const EMPTY_LEASE_GRACE_MS = 2_000;
/** How often a holder touches its lease file, whatever the engine's poll interval, at most. */
const TOUCH_MS = 1_000;

/** Options of a delivery lease. */
export interface LeaseOptions {
  /**
   * A holder whose liveness cannot be checked (on another host or in another pid namespace, in a worker
   * thread, or whose lease file cannot be read) is taken as gone once the file went untouched this long
   * (default 30,000 ms). The holder touches it every second (a quarter of `staleMs` if shorter).
   */
  staleMs?: number;
  /** Told when a stale lease (a dead holder's, or an empty file left by a crash) is broken. */
  onStale?: (message: string) => void;
  /** Told when the holder finds its lease gone or taken by another logger (which judged it gone). */
  onLost?: (message: string) => void;
}

/** Reads a lease file: `pid start-time host token namespace [thread:<id>]` ('-' for what is unknown). */
function readLease(path: string): HolderRead {
  return readHolder(path, 'lease');
}

/**
 * An O_EXCL lease file naming its holder. Several loggers (processes, threads, or two loggers of one
 * process) may write one directory with the same sink: only the holder delivers; the others follow its
 * cursor and take over when it is gone (its process died, or its lease went untouched for `staleMs` where
 * its process cannot be checked). The holder checks at each touch that the file is still its own.
 */
export class DeliveryLease {
  private readonly token = randomBytes(8).toString('hex');
  private held = false;
  private keepAlive: NodeJS.Timeout | undefined;
  private readonly staleMs: number;
  private readonly onStale: ((message: string) => void) | undefined;
  private readonly onLost: ((message: string) => void) | undefined;

  constructor(readonly path: string, options: LeaseOptions = {}) {
    this.staleMs = options.staleMs ?? 30_000;
    this.onStale = options.onStale;
    this.onLost = options.onLost;
  }

  /** Whether this instance holds the lease. */
  get isHeld(): boolean {
    return this.held;
  }

  /** Takes the lease if it is free or its holder is gone; never waits. */
  tryAcquire(): boolean {
    if (this.held) return true;
    ensurePrivateDir(dirname(this.path));
    for (let attempt = 0; attempt < 2; attempt++) {
      if (this.tryCreate()) return this.hold();
      const identity = identityOf(this.path); // before the read: a file replaced in between is then told apart
      const read = readLease(this.path);
      if (read === undefined) continue; // released meanwhile: try again
      if (isHeldBy(read, this.token)) return this.hold(); // ours after all (an NFS create retried)
      if (!isLeftBehind(read, this.path, this.staleMs, EMPTY_LEASE_GRACE_MS)) return false;
      if (this.breakStale(read, identity)) this.onStale?.(`${this.path}: ${describe(read)}: taken over`);
    }
    return false;
  }

  /**
   * Refreshes the lease file's time, so that loggers which cannot check our process see we are alive; finds
   * out when the lease was judged gone and taken by another logger (then it is no longer held).
   */
  touch(): void {
    if (!this.held) return;
    const read = readLease(this.path);
    // Gone, or another's: broken by a logger that judged us gone (our loop stalled past staleMs).
    if (read !== 'unreadable' && !isHeldBy(read, this.token)) {
      this.letGo();
      const by = typeof read === 'object' ? ` by pid ${read.pid} on ${read.host}` : '';
      this.onLost?.(`${this.path} was ${read === undefined ? 'removed' : `taken${by}`} (this logger was judged gone): it follows from now on`);
      return;
    }
    try {
      const now = new Date();
      utimesSync(this.path, now, now);
    } catch (err) {
      this.letGo();
      this.onLost?.(`${this.path} could not be touched (${(err as Error).message}): it follows from now on`);
    }
  }

  /** Gives the lease up (if still ours). */
  release(): void {
    if (!this.held) return;
    this.letGo();
    if (!isHeldBy(readLease(this.path), this.token)) return;
    try {
      unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  /** Marks the lease held and keeps its file touched, also when the engine polls less often than other hosts judge. */
  private hold(): true {
    this.held = true;
    this.keepAlive = setInterval(() => this.touch(), Math.min(TOUCH_MS, this.staleMs / 4));
    this.keepAlive.unref();
    return true;
  }

  private letGo(): void {
    this.held = false;
    clearInterval(this.keepAlive);
    this.keepAlive = undefined;
  }

  private tryCreate(): boolean {
    const thread = isMainThread ? '' : ` thread:${threadId}`;
    return createExclusive(this.path, `${process.pid} ${processStartTime(process.pid) ?? '-'} ${HOST} ${this.token} ${OWN_NAMESPACE ?? '-'}${thread}\n`);
  }

  /**
   * Renames the stale file aside (only one breaker can) and deletes it if it is still the one judged
   * gone (`read`, the file known by `identity`); a fresh holder's file, which slipped in meanwhile, is put
   * back. True when it was broken.
   */
  private breakStale(read: Exclude<HolderRead, undefined>, identity: string | undefined): boolean {
    const aside = `${this.path}.stale-${this.token}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return false;
    }
    const moved = readLease(aside);
    // A holder's file is known by its token; an empty or unreadable one only by its inode and birth time (a fresh
    // lease, between its creation and its write, reads as empty too, and may get the inode number just freed).
    const same = typeof read === 'object' ? isHeldBy(moved, read.token) : moved === read && identity !== undefined && identityOf(aside) === identity;
    if (!same) {
      // A fresh lease: put it back, unless yet another logger took the path meanwhile (never clobber it: the
      // fresh holder then finds at its next touch that the lease is no longer its own).
      try {
        linkSync(aside, this.path);
      } catch {
        // taken meanwhile
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // already gone
    }
    return same;
  }
}

/** What tells one file from another at `path`: inode number and birth time (0 where the system has none); a rename keeps both. */
function identityOf(path: string): string | undefined {
  try {
    const stats = statSync(path);
    return `${stats.ino}:${stats.birthtimeMs}`;
  } catch {
    return undefined;
  }
}

/** Why a lease was judged gone, for the message. */
function describe(read: Exclude<HolderRead, undefined>): string {
  if (read === 'empty') return 'was empty (its creator died before writing it)';
  if (read === 'unreadable') return `could not be read and went untouched for longer than the stale time`;
  const where = read.thread === undefined ? `pid ${read.pid}` : `pid ${read.pid} ${read.thread}`;
  return `holder ${where} on ${read.host} is gone`;
}
