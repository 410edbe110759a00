// Who delivers a sink's events from a shared log directory: `.delivery/<sink>.lease`, held by one logger at a time.
import { linkSync, readFileSync, renameSync, unlinkSync, utimesSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname } from 'node:path';
import { randomBytes } from 'node:crypto';
import { ensurePrivateDir } from '../files/fs-util';
import { pidNamespace, processAlive, processStartTime, sameProcessSpace } from '../files/process-info';
import { createExclusive } from '../files/fs-util';

const HOST = hostname();
const OWN_NAMESPACE = pidNamespace();

/** A lease file still empty (or cut short) after this long was left by a crash between its creation and its write. */
const EMPTY_LEASE_GRACE_MS = 2_000;

/** Options of a delivery lease. */
export interface LeaseOptions {
  /** A holder on another host whose lease file was not touched for this long is taken as gone (default 30,000 ms). */
  staleMs?: number;
  /** Told when a stale lease (a dead holder's, or an empty file left by a crash) is broken. */
  onStale?: (message: string) => void;
}

/**
 * An O_EXCL lease file naming its holder (pid, process start time, host, token). Several
 * loggers (processes, or two loggers of one process) may write one directory with the same
 * sink: only the holder delivers; the others follow its cursor and take over when it is gone
 * (its process died, or its lease went unrefreshed for `staleMs` on another host).
 */
export class DeliveryLease {
  private readonly token = randomBytes(8).toString('hex');
  private held = false;
  private readonly staleMs: number;
  private readonly onStale: ((message: string) => void) | undefined;

  constructor(readonly path: string, options: LeaseOptions = {}) {
    this.staleMs = options.staleMs ?? 30_000;
    this.onStale = options.onStale;
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
      if (this.tryCreate()) return (this.held = true);
      const holder = this.readHolder();
      if (!holder) {
        // Empty or cut short: its creator died before writing it. Past a grace (a creator may be writing it now), break it.
        if (!this.isAbandonedEmpty()) return false;
        if (this.breakStale(undefined)) this.onStale?.(`${this.path} was empty (its creator died before writing it): taken over`);
        continue;
      }
      if (!this.isStale(holder)) return false;
      if (this.breakStale(holder.token)) this.onStale?.(`${this.path}: holder pid ${holder.pid} on ${holder.host} is gone: taken over`);
    }
    return false;
  }

  /** Refreshes the lease file's time, so loggers on other hosts see the holder is alive. */
  touch(): void {
    if (!this.held) return;
    try {
      const now = new Date();
      utimesSync(this.path, now, now);
    } catch {
      this.held = false; // broken by someone who judged us gone: follow from now on
    }
  }

  /** Gives the lease up (if still ours). */
  release(): void {
    if (!this.held) return;
    this.held = false;
    try {
      if (this.readHolder()?.token === this.token) unlinkSync(this.path);
    } catch {
      // already gone
    }
  }

  private tryCreate(): boolean {
    return createExclusive(this.path, `${process.pid} ${processStartTime(process.pid) ?? '-'} ${HOST} ${this.token} ${OWN_NAMESPACE ?? '-'}\n`);
  }


  private readHolder(): { pid: number; start: string; host: string; token: string; namespace: string | undefined; mtimeMs: number } | undefined {
    try {
      const [pid, start, host, token, namespace] = readFileSync(this.path, 'utf8').trim().split(' ');
      if (!pid || !start || !host || !token) return undefined;
      return { pid: Number(pid), start, host, token, namespace: namespace === '-' ? undefined : namespace, mtimeMs: statSync(this.path).mtimeMs };
    } catch {
      return undefined;
    }
  }

  private isAbandonedEmpty(): boolean {
    try {
      return Date.now() - statSync(this.path).mtimeMs > EMPTY_LEASE_GRACE_MS;
    } catch {
      return false;
    }
  }

  private isStale(holder: { pid: number; start: string; host: string; namespace: string | undefined; mtimeMs: number }): boolean {
    // Another host, or a container with its own pid namespace under the same hostname: only the age tells.
    if (!sameProcessSpace(holder.host, holder.namespace, HOST, OWN_NAMESPACE)) return Date.now() - holder.mtimeMs > this.staleMs;
    if (!processAlive(holder.pid)) return true;
    const start = processStartTime(holder.pid);
    return holder.start !== '-' && start !== undefined && start !== holder.start; // the pid was reused
  }

  /**
   * Renames the stale file aside (only one breaker can), and deletes it unless a fresh holder
   * slipped in (`token` undefined: the file was empty or cut short). True when it was broken.
   */
  private breakStale(token: string | undefined): boolean {
    const aside = `${this.path}.stale-${this.token}`;
    try {
      renameSync(this.path, aside);
    } catch {
      return false;
    }
    try {
      const moved = readFileSync(aside, 'utf8').trim().split(' ');
      const same = token === undefined ? moved.length < 4 || moved.some((part) => part === '') : moved[3] === token;
      if (same) {
        unlinkSync(aside);
        return true;
      }
      // A fresh lease: put it back, unless yet another writer took the path meanwhile (never clobber it).
      linkSync(aside, this.path);
      unlinkSync(aside);
    } catch {
      // best effort: at worst two loggers deliver for a while, which at-least-once delivery allows
    }
    return false;
  }
}
