// Small file helpers shared by the local sinks: full writes, reading the last line, private modes.
import { closeSync, fstatSync, fsyncSync, mkdirSync, openSync, readSync, writeSync, chmodSync, lstatSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Writes all of `data` at the file position (or the end, for O_APPEND), looping on short writes. */
export function writeAll(fd: number, data: Buffer, position?: number): void {
  let offset = 0;
  while (offset < data.length) {
    const written = writeSync(fd, data, offset, data.length - offset, position === undefined ? null : position + offset);
    offset += written;
  }
}

/** Size of an open file. */
export function sizeOf(fd: number): number {
  return fstatSync(fd).size;
}

/** Reads `length` bytes at `position`. */
export function readAt(fd: number, position: number, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, buf, got, length - got, position + got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? buf : buf.subarray(0, got);
}

/** Offset of the last newline before `end`, reading backwards in growing chunks; -1 when there is none. */
export function lastNewlineBefore(fd: number, end: number): number {
  let chunk = 4096;
  let hi = end;
  while (hi > 0) {
    const lo = Math.max(0, hi - chunk);
    const index = readAt(fd, lo, hi - lo).lastIndexOf(0x0a);
    if (index >= 0) return lo + index;
    hi = lo;
    chunk *= 4;
  }
  return -1;
}

/** The last complete line of a file whose byte at `end - 1` is its newline, with its start offset. */
export function lastLineBefore(fd: number, end: number): { text: string; start: number } | undefined {
  if (end <= 0) return undefined;
  const start = lastNewlineBefore(fd, end - 1) + 1;
  return { text: readAt(fd, start, end - 1 - start).toString('utf8'), start };
}

/** Complete lines before `end` (whose byte at `end - 1` is a newline), last first, with their start offsets. */
export function* linesBackward(fd: number, end: number): Generator<{ text: string; start: number }> {
  let at = end;
  while (at > 0) {
    const line = lastLineBefore(fd, at);
    if (!line) return;
    yield line;
    at = line.start;
  }
}

/** Creates a directory (and missing parents) with mode 0700 whatever the umask; existing ones are left as they are. */
export function ensurePrivateDir(dir: string): void {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) return;
  // Only the directories this call created are ours to tighten.
  for (let d = resolve(dir); ; d = dirname(d)) {
    chmodSync(d, 0o700);
    if (d === resolve(first) || d === dirname(d)) break;
  }
}

/** Forces a directory's entries (files created, renamed or removed in it) to stable storage. */
export function syncDirectory(dir: string): void {
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

/** Whether a path exists as a symbolic link. */
export function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/** link(2) errors that mean the filesystem cannot hard-link (vfat, some SMB shares): the caller falls back to O_EXCL. */
const CANNOT_LINK = new Set(['EPERM', 'ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'EMLINK', 'EXDEV']);

/** Whether `err` says that the filesystem cannot hard-link. */
export function cannotLink(err: unknown): boolean {
  return CANNOT_LINK.has((err as NodeJS.ErrnoException).code ?? '');
}

/** Creates `path` with `content` only if nothing is there (O_EXCL, mode 0600; synced when `sync`); false when it exists. */
export function createExclusive(path: string, content: string, sync = false): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
  try {
    writeSync(fd, content);
    if (sync) fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return true;
}
