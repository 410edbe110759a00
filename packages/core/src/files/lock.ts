// The directory lock that orders writers of one log across processes: a lock file (each writer's
// holder file, hard-linked; or created with O_EXCL where links are not supported) held as a lease
// (for the events of about a millisecond, released by a timer between turns of the event loop).
import { closeSync, existsSync, openSync, renameSync, linkSync, unlinkSync, utimesSync, statSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { isMainThread } from 'node:worker_threads';
import { LockTimeoutError } from '../errors';
import { sleepSync } from './sleep';
import { createExclusive } from './fs-util';
import { HolderFile, holderLine, isHeldBy, isLeftBehind, readHolder, removeHolderFiles, sweepHolderFiles, type HolderRead } from './lock-holder';

/** Options of a directory lock. */
export interface LockOptions {
  /** How long to wait for another writer before failing (default 10,000 ms). */
  timeoutMs?: number;
  /** A lock judged by its age (another host or pid namespace, a worker thread's, an unreadable one) is stale once this old (default 30,000 ms). */
  staleMs?: number;
  /** Called when a stale lock is broken. */
  onStale?: (message: string) => void;
  /** Called when a lease turns out to have been broken by another writer (which took this one for gone). */
  onLost?: (message: string) => void;
}

/** A lock file still empty after this long was left by a writer that died between creating and filling it. */
const EMPTY_LOCK_GRACE_MS = 2_000;
/** A breaker file whose writer is gone (or, from another host, this old) was left by a writer that died while breaking a lock. */
const BREAKER_GRACE_MS = 1_000;
/** How long a lease lasts from its first event: the events of the turns that follow within it pay nothing for the lock. */
const LEASE_MS = 1;
/** A lease held longer than this without a turn of the event loop (a tight loop of awaited events) is handed to a waiting writer. */
const MAX_LEASE_MS = 100;
/** After another writer was seen at the lock (waiting for it, or holding it when this one wanted it), leases end with their turn for this long. */
const CONTENDED_MS = 100;
/** The real timer functions, taken when this module loads: timers faked after that (a test's) do not keep a lease for ever. */
const realSetTimeout = setTimeout;
const realClearTimeout = clearTimeout;
/** A waiter's longest pause between attempts. */
const MAX_PAUSE_MS = 16;
/** A wait file whose mtime changed this recently (by our clock, not the waiter's) means a writer waits. */
const WAITER_FRESH_MS = 4 * MAX_PAUSE_MS;
/** While a writer waits, the holder keeps taking the lock turn after turn for this long before it steps aside. */
const SHARE_MS = 20;
/** How long a holder steps aside for a waiter: longer than the waiter's pause, so that it gets in. */
const YIELD_MS = 2 * MAX_PAUSE_MS;

/** Locks held by this thread, so that two loggers of one process hand the lease over instead of deadlocking. */
const heldHere = new Map<string, FileLock>();
// A process that ends inside a burst (its lease's release still queued) leaves no lock file behind, and no holder file.
process.once('exit', () => {
  for (const lock of [...heldHere.values()]) lock.release();
  removeHolderFiles();
});

/** An inter-process lock on one path. */
export class FileLock {
  private held = false;
  private readonly token = randomBytes(8).toString('hex');
  /** Calls of inUse() running: while one runs, another lock's wait does not let go of this lease. */
  private busy = 0;
  /** Until then (ms), leases end with their turn: another writer was seen at the lock. */
  private contendedUntil = 0;
  /** What ends the current lease: a timer, and when it must end with its turn an immediate too (whichever runs first). */
  private leaseEnd: { timer: NodeJS.Timeout; immediate: NodeJS.Immediate | undefined } | undefined;
  /** The wait file's mtime when we last looked, and when (by our clock) we last saw it change. */
  private waitSeen: { mtimeMs: number; changedAt: number } | undefined;
  /** When the lease began, or a tight loop last looked for waiters (ms). */
  private heldSince = 0;
  /** Until then (ms), this writer lets a writer that was waiting take the lock before trying again. */
  private stepAsideUntil = 0;
  /** When this writer took the lock first since it last stepped aside (ms), or 0. */
  private shareStart = 0;
  /** When the lock file's mtime was last set (ms): when it was taken, then every staleMs / 4 while one lease lasts. */
  private touchedAt = 0;
  private readonly waitPath: string;
  private readonly breakPath: string;
  /** What this writer writes into its lock and breaker files. */
  private readonly line = holderLine(this.token);
  /**
   * This writer's holder file, linked as the lock file at each acquisition; none in a worker thread, whose
   * `terminate()` runs no exit handler that could remove it (a worker creates its lock files with O_EXCL).
   */
  private readonly holder: HolderFile | undefined;
  /** Whether the lock held now is the holder file linked (else a lock file created with O_EXCL). */
  private heldByLink = false;
  /** Whether holder files left by dead writers were looked for. */
  private swept = false;
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(readonly path: string, private readonly options: LockOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.staleMs = options.staleMs ?? 30_000;
    this.waitPath = path + '.wait';
    this.breakPath = path + '.break';
    this.holder = isMainThread ? new HolderFile(`${path}.holder-${this.token}`, this.token) : undefined;
  }

  /** Whether this instance holds the lock now. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lock (waiting synchronously) if not held; it is released about LEASE_MS later, between
   * two turns of the event loop. Returns true when this call (re)acquired it: another writer may
   * have written since, so the caller must read the files' tails again.
   */
  acquireLease(): boolean {
    let fresh = false;
    if (!this.held) {
      this.acquire();
      fresh = true;
    } else if (Date.now() - this.heldSince > MAX_LEASE_MS) {
      // A lease that lasts (a loop that never ends its turn), looked at every 100 ms: still ours (one stat)?
      // Its mtime is set every staleMs / 4, so that writers that judge it by its age do not take it for abandoned.
      const lost = Date.now() - this.touchedAt > this.staleMs / 4 ? !this.touch() : this.ownership() === 'other';
      if (lost) {
        // Broken by a writer that took this lease for abandoned: take the lock again (the caller reads the tails again).
        this.forget();
        this.reportLost();
        this.acquire();
        fresh = true;
      } else if (this.someoneWaits()) {
        // A loop that never yields to the event loop would keep the lock for ever: let the waiter in.
        this.release();
        this.makeWay();
        this.acquire();
        fresh = true;
      }
    }
    if (!this.leaseEnd) {
      // Not at the end of this turn: a writer that logs one event per turn (a server, one request
      // each) would take and release the lock at every event, four system calls, two of them
      // changes to the directory. A timer's callback runs only once the code that logged, and the
      // microtasks it queued, are done: a lease ends between turns, never inside an append.
      // Unreferenced, so that it neither keeps the process alive nor runs 'beforeExit' again.
      // The lease ends with its turn too while other writers use the lock (they wait, blocked, for
      // less), and in a worker thread: a lock left by terminate() (which runs no exit handler) is
      // judged by its age, and would hold the other writers up for lockStaleMs.
      const withTurn = !this.holder || Date.now() < this.contendedUntil;
      this.leaseEnd = {
        timer: realSetTimeout(this.endLease, LEASE_MS).unref(),
        immediate: withTurn ? setImmediate(this.endLease).unref() : undefined,
      };
    }
    return fresh;
  }

  /**
   * Runs `fn` (which takes the lease and writes under it) with the lease marked in use: a wait for
   * another lock in this thread (a warning handler that logs to another directory) does not let
   * go of it in the middle.
   */
  inUse<T>(fn: () => T): T {
    this.busy++;
    try {
      return fn();
    } finally {
      this.busy--;
    }
  }

  /** Releases the lock if held. */
  release(): void {
    if (!this.held) return;
    this.forget();
    // Ours may have been broken as stale and the lock taken by another writer: remove only ours. One
    // that cannot be read now is left: this writer takes it back as its own (its token), or it ages out.
    const owner = this.ownership();
    if (owner === 'other') {
      this.reportLost();
      return;
    }
    if (owner === 'unknown') return;
    try {
      unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }

  /** No longer counts the lock as held (by this writer, or by this thread). */
  private forget(): void {
    this.held = false;
    if (heldHere.get(this.path) === this) heldHere.delete(this.path);
  }

  /**
   * Whose the lock file is: one stat when it is our holder file; otherwise (an O_EXCL lock file, inode
   * numbers that differ between links) its token; 'unknown' when it cannot be read (EMFILE, EIO).
   */
  private ownership(): 'ours' | 'other' | 'unknown' {
    if (this.heldByLink && this.holder?.isLinkedAt(this.path)) return 'ours';
    const read = readHolder(this.path);
    if (read === 'unreadable') return 'unknown';
    return isHeldBy(read, this.token) ? 'ours' : 'other';
  }

  /**
   * Sets the held lock file's mtime to now, so that a lease that lasts (a loop of awaits that never ends
   * the turn) does not look abandoned to writers that judge it by its age; false when it is no longer ours.
   */
  private touch(): boolean {
    const owner = this.ownership();
    if (owner === 'other') return false;
    this.touchedAt = Date.now();
    if (owner === 'unknown') return true; // taken for ours: a transient error must not end a lease
    try {
      utimesSync(this.path, this.touchedAt / 1000, this.touchedAt / 1000);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false; // removed since
    }
    return true;
  }

  /** Tells that a lease was broken by another writer, once this call is done (a warning handler that logs must not re-enter it). */
  private reportLost(): void {
    const message = `the lease on ${this.path} was broken by another writer (which took it for abandoned); events written since may have forked the chain`;
    const onLost = this.options.onLost;
    if (onLost) queueMicrotask(() => onLost(message));
  }

  /** Releases the lock and removes this writer's holder file (when its log closes). */
  dispose(): void {
    this.release();
    this.holder?.remove();
  }

  /** The end of a lease: release it, and step aside for a moment if a writer was waiting. */
  private readonly endLease = (): void => {
    if (!this.leaseEnd) return;
    realClearTimeout(this.leaseEnd.timer);
    if (this.leaseEnd.immediate) clearImmediate(this.leaseEnd.immediate);
    this.leaseEnd = undefined;
    if (!this.held) return;
    // Without stepping aside, a writer logging every turn takes the lock again within microseconds,
    // and a waiter polling every few milliseconds gets in only by luck. Stepping aside at every
    // lease would hand the lock back and forth at a few milliseconds each: once per share instead.
    if (!this.waiterSeen()) this.shareStart = 0;
    else if (Date.now() - this.shareStart >= SHARE_MS) this.makeWay();
    this.release();
  };

  /** The next acquire steps aside for the waiting writer first, and a new share starts after it. */
  private makeWay(): void {
    this.stepAsideUntil = Date.now() + YIELD_MS;
    this.shareStart = 0;
  }

  private acquire(): void {
    const sibling = heldHere.get(this.path);
    if (sibling && sibling !== this) sibling.release();
    if (Date.now() < this.stepAsideUntil) this.stepAside();
    const started = Date.now();
    let pause = 1;
    let signalled = false;
    for (;;) {
      if (this.tryCreate()) {
        this.held = true;
        this.heldSince = this.touchedAt = Date.now();
        if (this.shareStart === 0) this.shareStart = this.heldSince;
        heldHere.set(this.path, this);
        if (signalled) this.stopWaiting(); // also after breaking a stale lock at the first try: no wait file left behind
        return;
      }
      const holder = readHolder(this.path);
      if (this.isLeft(holder) && this.breakStale()) continue;
      // Another writer holds the lock: end leases with their turn for a while, so that it waits less.
      this.contendedUntil = Date.now() + CONTENDED_MS;
      if (!signalled) {
        // Waiting while holding another directory's lease would deadlock with a writer that holds
        // this lock and waits for that one: let go of them (their next event takes a new lease),
        // unless a write under one is in progress (this wait would run inside it).
        for (const other of [...heldHere.values()]) if (other !== this && other.busy === 0) other.release();
      }
      this.signalWaiting();
      signalled = true;
      const waited = Date.now() - started;
      if (waited >= this.timeoutMs) {
        this.stopWaiting();
        throw new LockTimeoutError(this.path, waited, typeof holder === 'object' ? `pid ${holder.pid} on ${holder.host}` : 'an unknown writer');
      }
      sleepSync(pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }

  /**
   * Waits until the writer that was waiting has taken the lock (the lock file exists, or the wait
   * file is gone: the waiter removes it once in), or YIELD_MS have passed since we released it.
   */
  private stepAside(): void {
    while (Date.now() < this.stepAsideUntil && !existsSync(this.path) && existsSync(this.waitPath)) sleepSync(1);
    this.stepAsideUntil = 0;
  }

  /** Whether a writer touched the wait file lately; checked at most once per MAX_LEASE_MS. */
  private someoneWaits(): boolean {
    this.heldSince = Date.now();
    return this.waiterSeen();
  }

  /**
   * Whether a writer touched the wait file lately (one stat, no exception when it is absent).
   * "Lately" is when we saw its mtime change, by our clock: a waiter on another host may have
   * another time, and a waiter that died leaves a file that stops changing.
   */
  private waiterSeen(): boolean {
    let stats: { mtimeMs: number } | undefined;
    try {
      stats = statSync(this.waitPath, { throwIfNoEntry: false });
    } catch {
      stats = undefined;
    }
    const now = Date.now();
    if (stats === undefined) {
      this.waitSeen = undefined;
      return false;
    }
    if (this.waitSeen?.mtimeMs !== stats.mtimeMs) this.waitSeen = { mtimeMs: stats.mtimeMs, changedAt: now };
    const waiting = now - this.waitSeen.changedAt < WAITER_FRESH_MS;
    if (waiting) this.contendedUntil = now + CONTENDED_MS;
    return waiting;
  }

  /** Tells the holder that a writer waits (the holder of a long lease steps aside). */
  private signalWaiting(): void {
    try {
      const now = new Date();
      utimesSync(this.waitPath, now, now);
    } catch {
      try {
        closeSync(openSync(this.waitPath, 'a', 0o600));
      } catch {
        // Without the signal the holder keeps its lease until it ends.
      }
    }
  }

  private stopWaiting(): void {
    try {
      unlinkSync(this.waitPath);
    } catch {
      // Another waiter removed it, or it was never made.
    }
  }

  private tryCreate(): boolean {
    if (this.holder && !this.swept) this.sweep();
    const linked = this.holder?.linkAs(this.path);
    this.heldByLink = linked !== undefined;
    // A lock file of ours still there (its release could not read it) is ours to take back.
    return linked ?? (createExclusive(this.path, this.line) || isHeldBy(readHolder(this.path), this.token));
  }

  /** Once per lock, before its first acquisition: removes the holder files of writers that are gone. */
  private sweep(): void {
    try {
      sweepHolderFiles(this.path, this.holder!.path, EMPTY_LOCK_GRACE_MS);
      this.swept = true;
    } catch {
      // The directory cannot be listed now: the next acquisition tries again.
    }
  }

  /** Whether the lock file, read as `holder`, was left by a writer that is gone. */
  private isLeft(holder: HolderRead): boolean {
    return isLeftBehind(holder, this.path, this.staleMs, EMPTY_LOCK_GRACE_MS);
  }

  /**
   * Breaks a stale lock; true when this writer removed it. Only the writer that creates the
   * breaker file (O_EXCL) may remove the lock, and it checks staleness again while holding it:
   * no other writer can remove or replace a lock file that exists, so the lock it removes is the
   * stale one it checked, never a fresh lock taken meanwhile (which a rename-and-link-back could
   * orphan, or hand to two writers at once). The one exception is a lock judged by its age whose
   * writer is in fact alive but blocked for longer than `staleMs` (a lease that keeps logging keeps
   * its lock young): if it releases and takes it again between the check and the unlink, the fresh
   * lock goes.
   */
  private breakStale(): boolean {
    if (!this.takeBreaker()) return false;
    try {
      const holder = readHolder(this.path);
      if (!this.isLeft(holder)) return false; // broken and retaken meanwhile
      try {
        unlinkSync(this.path);
      } catch {
        return false; // gone already: nothing was broken here
      }
      this.swept = false; // the dead writer's holder file was the lock until now: the next acquisition sweeps it
      const by =
        typeof holder === 'object' ? `pid ${holder.pid} on ${holder.host}` : holder === 'empty' ? 'a writer that died before filling it in' : 'a writer whose lock file cannot be read';
      // Told once this call is done: a warning handler that logs must not re-enter the acquisition.
      const onStale = this.options.onStale;
      if (onStale) queueMicrotask(() => onStale(`broke stale lock ${this.path} left by ${by}`));
      return true;
    } finally {
      if (isHeldBy(readHolder(this.breakPath), this.token)) {
        try {
          unlinkSync(this.breakPath);
        } catch {
          // Gone: taken for abandoned by a writer that judged us dead, which we are not; harmless now.
        }
      }
    }
  }

  /** Creates the breaker file; when another writer's is there, removes it only if that writer is gone. */
  private takeBreaker(): boolean {
    try {
      if (createExclusive(this.breakPath, this.line)) return true;
    } catch {
      return false; // the directory is not writable now: try again at the next attempt
    }
    this.removeAbandonedBreaker();
    return false; // try again at the next attempt
  }


  /**
   * A breaker file left by a writer that died while breaking: moved aside (only one writer moves
   * a given file) and deleted. If the file moved is not the one judged abandoned (a live writer
   * created it meanwhile), it is put back, which fails harmlessly if yet another writer made one.
   */
  private removeAbandonedBreaker(): void {
    let judged: { ino: number; dev: number };
    try {
      judged = statSync(this.breakPath);
    } catch {
      return; // gone: its writer is done
    }
    const breaker = readHolder(this.breakPath);
    if (!isLeftBehind(breaker, this.breakPath, this.staleMs, BREAKER_GRACE_MS)) return;
    const aside = `${this.breakPath}.stale-${this.token}`;
    try {
      renameSync(this.breakPath, aside);
    } catch {
      return; // another writer moved it first
    }
    // The file judged: the same token when both name a writer; else (empty or unreadable) the same inode, and still no token.
    const movedRead = readHolder(aside);
    let same: boolean;
    if (typeof breaker === 'object' || typeof movedRead === 'object') {
      same = typeof breaker === 'object' && typeof movedRead === 'object' && breaker.token === movedRead.token;
    } else {
      try {
        const moved = statSync(aside);
        same = moved.ino === judged.ino && moved.dev === judged.dev;
      } catch {
        same = false;
      }
    }
    if (!same) {
      try {
        linkSync(aside, this.breakPath);
      } catch {
        // A third writer made one: it breaks the lock.
      }
    }
    try {
      unlinkSync(aside);
    } catch {
      // best effort
    }
  }
}
