// The directory lock that orders writers of one log across processes: an O_EXCL lock file
// held as a lease (for a burst of events, released on the next turn of the event loop).
import { closeSync, openSync, readFileSync, renameSync, linkSync, unlinkSync, utimesSync, writeSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { LockTimeoutError } from '../errors';
import { sleepSync } from './sleep';

/** Options of a directory lock. */
export interface LockOptions {
  /** How long to wait for another writer before failing (default 10,000 ms). */
  timeoutMs?: number;
  /** A lock from another host older than this is taken as stale (default 30,000 ms). */
  staleMs?: number;
  /** Called when a stale lock is broken. */
  onStale?: (message: string) => void;
}

interface Holder {
  pid: number;
  host: string;
  token: string;
  /** Start time of the holder process (Linux clock ticks since boot), when known: tells a reused pid apart. */
  started: string | undefined;
}

const HOST = hostname();
/** A lock file still empty after this long was left by a writer that died between creating and filling it. */
const EMPTY_LOCK_GRACE_MS = 2_000;
const OWN_START = processStartTime(process.pid);
/** A lease held longer than this without a turn of the event loop (a tight loop of awaited events) is handed to a waiting writer. */
const MAX_LEASE_MS = 100;
/** A waiter's longest pause between attempts. */
const MAX_PAUSE_MS = 16;
/** How long a holder steps aside for a waiter: longer than the waiter's pause, so that it gets in. */
const YIELD_MS = 2 * MAX_PAUSE_MS;
/** Locks held by this thread, so that two loggers of one process hand the lease over instead of deadlocking. */
const heldHere = new Map<string, FileLock>();
// A process that ends inside a burst (its lease's release still queued) leaves no lock file behind.
process.once('exit', () => {
  for (const lock of [...heldHere.values()]) lock.release();
});

/** An inter-process lock on one path. */
export class FileLock {
  private held = false;
  private readonly token = randomBytes(8).toString('hex');
  private releaseScheduled = false;
  private heldSince = 0;
  private readonly waitPath: string;
  private readonly timeoutMs: number;
  private readonly staleMs: number;

  constructor(readonly path: string, private readonly options: LockOptions = {}) {
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.staleMs = options.staleMs ?? 30_000;
    this.waitPath = path + '.wait';
  }

  /** Whether this instance holds the lock now. */
  get isHeld(): boolean {
    return this.held;
  }

  /**
   * Takes the lock (waiting synchronously) if not held; it is released on the next turn of the
   * event loop. Returns true when this call (re)acquired it: another writer may have written
   * since, so the caller must read the files' tails again.
   */
  acquireLease(): boolean {
    let fresh = false;
    if (!this.held) {
      this.acquire();
      fresh = true;
    } else if (Date.now() - this.heldSince > MAX_LEASE_MS && this.someoneWaits()) {
      // A loop that never yields to the event loop would keep the lock for ever: let the waiter in.
      this.release();
      sleepSync(YIELD_MS);
      this.acquire();
      fresh = true;
    }
    if (!this.releaseScheduled) {
      this.releaseScheduled = true;
      setImmediate(() => {
        this.releaseScheduled = false;
        this.release();
      }).unref();
    }
    return fresh;
  }

  /** Releases the lock if held. */
  release(): void {
    if (!this.held) return;
    this.held = false;
    if (heldHere.get(this.path) === this) heldHere.delete(this.path);
    try {
      if (this.readHolder()?.token === this.token) unlinkSync(this.path);
    } catch {
      // Already gone: nothing to release.
    }
  }

  private acquire(): void {
    const sibling = heldHere.get(this.path);
    if (sibling && sibling !== this) sibling.release();
    const started = Date.now();
    let pause = 1;
    for (;;) {
      if (this.tryCreate()) {
        this.held = true;
        this.heldSince = Date.now();
        heldHere.set(this.path, this);
        if (pause > 1) this.stopWaiting();
        return;
      }
      this.signalWaiting();
      const holder = this.readHolder();
      if (holder ? this.isStale(holder) : this.isAbandonedEmpty()) {
        this.breakStale(holder);
        continue;
      }
      const waited = Date.now() - started;
      if (waited >= this.timeoutMs) {
        this.stopWaiting();
        throw new LockTimeoutError(this.path, waited, holder ? `pid ${holder.pid} on ${holder.host}` : 'an unknown writer');
      }
      sleepSync(pause);
      pause = Math.min(pause * 2, MAX_PAUSE_MS);
    }
  }

  /** Whether a writer touched the wait file lately; checked at most once per MAX_LEASE_MS. */
  private someoneWaits(): boolean {
    this.heldSince = Date.now();
    try {
      return Date.now() - statSync(this.waitPath).mtimeMs < 4 * MAX_PAUSE_MS;
    } catch {
      return false;
    }
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
        // Without the signal the holder keeps its lease until its turn of the event loop ends.
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
    let fd: number;
    try {
      fd = openSync(this.path, 'wx', 0o600);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
    try {
      writeSync(fd, `${process.pid} ${HOST} ${this.token}${OWN_START ? ' ' + OWN_START : ''}\n`);
    } finally {
      closeSync(fd);
    }
    return true;
  }

  private readHolder(): Holder | undefined {
    try {
      const [pid, host, token, started] = readFileSync(this.path, 'utf8').trim().split(' ');
      // A holder caught between creating and writing its file reads as empty: not stale yet.
      if (!pid || !host || !token) return undefined;
      return { pid: Number(pid), host, token, started };
    } catch {
      return undefined;
    }
  }

  private isStale(holder: Holder): boolean {
    if (holder.host === HOST) {
      if (!processAlive(holder.pid)) return true;
      // Alive, but is it the holder, or a later process that reused its pid (a restarted container, even this process)?
      const started = holder.started === undefined ? undefined : processStartTime(holder.pid);
      return started !== undefined && started !== holder.started;
    }
    try {
      return Date.now() - statSync(this.path).mtimeMs > this.staleMs;
    } catch {
      return false;
    }
  }

  /**
   * Breaks a stale lock by renaming it aside, which only one breaker can do; if what was
   * moved turns out to be a fresh lock (taken between our read and our rename), it is put back.
   */
  private isAbandonedEmpty(): boolean {
    try {
      return Date.now() - statSync(this.path).mtimeMs > EMPTY_LOCK_GRACE_MS;
    } catch {
      return false;
    }
  }

  private breakStale(holder: Holder | undefined): void {
    const aside = `${this.path}.stale-${this.token}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return; // another writer broke or released it first
    }
    let moved: string | undefined;
    try {
      moved = readFileSync(aside, 'utf8').trim().split(' ')[2];
    } catch {
      moved = undefined;
    }
    if (moved !== undefined && moved !== holder?.token) {
      try {
        linkSync(aside, this.path);
      } catch {
        // The path was retaken meanwhile; the fresh holder keeps it.
      }
    } else {
      const by = holder ? `pid ${holder.pid} on ${holder.host}` : 'a writer that died before filling it in';
      this.options.onStale?.(`broke stale lock ${this.path} left by ${by}`);
    }
    try {
      unlinkSync(aside);
    } catch {
      // best effort
    }
  }
}

/** Field 22 of /proc/PID/stat (start time in clock ticks since boot), or undefined off Linux or for a gone process. */
function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: count fields after its closing one.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function processAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}
