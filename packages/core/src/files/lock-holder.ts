// A writer's holder file: written once, then hard-linked as the lock file at each acquisition, so that
// taking and releasing the lock creates and frees no inode (on ext4 without a journal, each new inode
// scans past the recently deleted ones: a lock file created and removed every turn got slower and slower).
import { closeSync, fstatSync, linkSync, openSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { cannotLink } from './fs-util';


/** Holder files of this thread. */
const live = new Set<HolderFile>();

/** Removes every holder file of this thread (at exit, once its locks are released). */
export function removeHolderFiles(): void {
  for (const holder of [...live]) holder.remove();
}

/** One writer's holder file beside the lock (`<lock>.holder-<token>`), holding its holder line. */
export class HolderFile {
  /** The holder file's inode while it exists (set by the first link). */
  private inode: { ino: number; dev: number } | undefined;
  /** False once this filesystem refused a hard link. */
  private linkable = true;

  constructor(
    readonly path: string,
    private readonly line: string,
  ) {}

  /**
   * Links the holder file as `target`: true when that took the lock, false when `target` exists,
   * undefined when the filesystem cannot hard-link (the caller creates the lock file instead).
   * Throws what else fails (a missing or unwritable directory), as creating a lock file would.
   */
  linkAs(target: string): boolean | undefined {
    if (!this.linkable) return undefined;
    for (let attempt = 0; ; attempt++) {
      if (!this.inode) this.create();
      try {
        linkSync(this.path, target);
        return true;
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EEXIST') return false;
        if (cannotLink(err)) {
          this.linkable = false;
          this.remove();
          return undefined;
        }
        // Removed under us (a directory cleaned by hand, another writer's sweep): made again, once.
        if (code !== 'ENOENT' || attempt > 0) throw err;
        this.inode = undefined;
      }
    }
  }

  /** Whether `target` is this holder file (one stat): the lock is still ours, not broken and taken since. */
  isLinkedAt(target: string): boolean {
    if (!this.inode) return false;
    try {
      const stats = statSync(target, { throwIfNoEntry: false });
      return stats !== undefined && stats.ino === this.inode.ino && stats.dev === this.inode.dev;
    } catch {
      return false;
    }
  }

  /** Removes the holder file (when its writer closes or exits); a later link makes it again. */
  remove(): void {
    live.delete(this);
    if (!this.inode) return;
    this.inode = undefined;
    try {
      unlinkSync(this.path);
    } catch {
      // Gone already.
    }
  }

  /** Writes the holder file whole before it is ever linked: a lock never reads as empty. */
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
      this.inode = { ino: stats.ino, dev: stats.dev };
    } catch (err) {
      closeSync(fd);
      try {
        unlinkSync(this.path);
      } catch {
        // The write's error is the one to report.
      }
      throw err;
    }
    closeSync(fd);
    live.add(this);
  }
}
