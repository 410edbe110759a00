// Drives a LogCursor while a log is being written: file-system notifications for speed, a poll
// as the safety net (network file systems, missed notifications, a directory replaced).
import { watch, type FSWatcher } from 'node:fs';
import type { CursorListener, LogCursor } from './log-cursor';

/** Options of followLog. */
export interface FollowOptions {
  /** Directory to watch for changes: the log's own directory. */
  watchDir: string;
  /** How often to look for changes when no notification comes (milliseconds). */
  pollMs: number;
  /** Ends the follow. */
  signal: AbortSignal;
}

/**
 * Polls the cursor on every change until the signal aborts; rejects with the first read error.
 * Polls never overlap: a change during a poll schedules exactly one more.
 */
export function followLog(cursor: LogCursor, listener: CursorListener, options: FollowOptions): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let running: Promise<void> | undefined;
    let again = false;
    let done = false;
    const watchers: FSWatcher[] = [];

    const finish = (err?: unknown): void => {
      if (done) return;
      done = true;
      clearInterval(timer);
      for (const watcher of watchers) watcher.close();
      options.signal.removeEventListener('abort', onAbort);
      void (running ?? Promise.resolve()).finally(() => (err === undefined ? resolve() : reject(err)));
    };
    const poll = (): void => {
      if (done) return;
      if (running) {
        again = true;
        return;
      }
      running = cursor
        .poll(listener)
        .then(
          () => undefined,
          (err: unknown) => finish(err),
        )
        .finally(() => {
          running = undefined;
          if (again && !done) {
            again = false;
            poll();
          }
        });
    };
    const onAbort = (): void => finish();

    // The poll timer is what keeps `tail --follow` alive, so it is not unref'd; it stops on abort.
    const timer = setInterval(poll, options.pollMs);
    options.signal.addEventListener('abort', onAbort);
    try {
      // The directory, not the file: it reports writes to the log and a rename or a new file alike.
      const watcher = watch(options.watchDir, { persistent: false }, poll);
      watcher.on('error', () => watcher.close()); // the directory went away: the poll carries on
      watchers.push(watcher);
    } catch {
      // No notifications here (a missing directory, some network file systems): the poll suffices.
    }
    if (options.signal.aborted) finish();
    else poll();
  });
}
