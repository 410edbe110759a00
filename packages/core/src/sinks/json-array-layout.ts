// Where an oldest-first JSON array grows: events go into reserved whitespace before the closing
// bracket, each in one write that stays inside one 4 KiB page, so a SIGKILL never tears it.
//
//   [\n{e1},\n{e2}␠␠␠␠␠␠,\n{e3}␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠␠\n]\n
//      └── events ──┘ └ page gap ┘      └──── reserve (spaces, "\n" at each page start) ────┘
//
// Linux copies a write(2) into the page cache page by page and checks for a fatal signal only
// between pages: a write inside one page lands whole or not at all. The closing "\n]\n" is never
// touched by an append. When the reserve runs out, the file is copied with a new reserve and
// renamed into place (amortised constant: the reserve grows with the file); a record longer than
// a page takes the same path, as no in-place write of it could be whole after a SIGKILL.
import { readAt, writeAll } from '../files/fs-util';

/** The unit Linux writes whole: the page (4 KiB, or a multiple of it on every Linux platform). */
export const PAGE = 4096;
/** The end of our array: the closing bracket on its own line. */
export const CLOSE = Buffer.from('\n]\n');
/** Reserve of a new or regrown file: at least this, and half the file's size beyond it. */
export const MIN_RESERVE = 4 * PAGE;

const SPACE = 0x20;
const NEWLINE = 0x0a;

/** The reserve's byte at file offset `at`: a newline at each page start (so it reads as lines), else a space. */
export function reserveByte(at: number): number {
  return at % PAGE === 0 ? NEWLINE : SPACE;
}

/** The reserve's bytes for file offsets [from, to). */
export function reserveBytes(from: number, to: number): Buffer {
  const out = Buffer.alloc(to - from, SPACE);
  for (let page = Math.ceil(from / PAGE) * PAGE; page < to; page += PAGE) out[page - from] = NEWLINE;
  return out;
}

/** Size of the reserve to leave after `used` bytes of array: it ends the file on a page boundary. */
export function reserveFor(used: number): number {
  const wanted = used + Math.max(MIN_RESERVE, Math.ceil(used / 2)) + CLOSE.length;
  return Math.ceil(wanted / PAGE) * PAGE - CLOSE.length - used;
}

/**
 * Where to write `length` bytes for an array whose events end at `end` and whose reserve ends at
 * `closeAt`: at `end` when they fit in its page, else at the next page start; undefined when the
 * reserve is too small or the record is longer than a page (no single page can hold it whole).
 */
export function placeFor(end: number, length: number, closeAt: number): number | undefined {
  const pageEnd = end - (end % PAGE) + PAGE;
  if (end + length <= Math.min(pageEnd, closeAt)) return end;
  return length <= PAGE && pageEnd + length <= closeAt ? pageEnd : undefined;
}

/**
 * The slices [offset, end) of `length` bytes written at file offset `at` that each end on a page
 * boundary. Reserve is written a page at a time: on kernels that cache files in large folios
 * (ext4 on Linux 6.x), one large write would put it in multi-page folios, and every later write
 * of an event into it would walk all the blocks of its folio (several times the cost of an append).
 */
export function pageSlices(length: number, at: number): [number, number][] {
  const slices: [number, number][] = [];
  for (let offset = 0; offset < length; ) {
    const end = Math.min(length, (Math.floor((at + offset) / PAGE) + 1) * PAGE - at);
    slices.push([offset, end]);
    offset = end;
  }
  return slices;
}

/** A whole page of reserve: every page-aligned page of reserve holds these bytes. */
const FULL_PAGE = reserveBytes(0, PAGE);
const NOTHING = Buffer.alloc(0);

/**
 * Writes reserve over the file offsets [from, to) and then `after` (the closing bracket, say), a
 * page per write (see pageSlices); whole pages of reserve share one buffer.
 */
export function writeReserve(fd: number, from: number, to: number, after: Buffer = NOTHING): void {
  for (const [start, end] of pageSlices(to + after.length - from, from)) {
    const a = from + start;
    const b = from + end;
    let data: Buffer;
    if (b <= to) data = b - a === PAGE ? FULL_PAGE : reserveBytes(a, b);
    else data = Buffer.concat([reserveBytes(a, Math.max(a, to)), after.subarray(Math.max(0, a - to), b - to)]);
    writeAll(fd, data, a);
  }
}

/** JSON whitespace. */
function isBlank(byte: number): boolean {
  return byte === SPACE || byte === NEWLINE || byte === 0x09 || byte === 0x0d;
}

/**
 * Where the array's last token ends, given that "\n]\n" starts at `closeAt`. The reserve is a run
 * of whitespace holding a raw newline at least every page; inside the events there is no such run
 * (gaps are shorter than a page, and strings cannot hold a raw newline), so "a page of whitespace
 * with a newline in it starts here" is false before the end and true after it: a binary search.
 */
export function findEnd(fd: number, closeAt: number): number {
  const tail = readAt(fd, Math.max(0, closeAt - PAGE), Math.min(PAGE, closeAt));
  for (let i = tail.length - 1; i >= 0; i--) {
    if (!isBlank(tail[i]!)) return closeAt - tail.length + i + 1;
  }
  let lo = 0;
  let hi = closeAt - tail.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (reserveStartsAt(fd, mid, closeAt)) hi = mid;
    else lo = mid + 1;
  }
  return lo;
}

function reserveStartsAt(fd: number, at: number, closeAt: number): boolean {
  const window = readAt(fd, at, Math.min(PAGE, closeAt + 1 - at));
  return window.every(isBlank) && window.includes(NEWLINE);
}

/**
 * Whether a record was written at `end` or at the next page start since we left the array ending
 * at `end`: two bytes each, as a record may begin with the newline the reserve has at a page start.
 */
export function appendedSince(fd: number, end: number, closeAt: number): boolean {
  const pageEnd = end - (end % PAGE) + PAGE;
  return changed(fd, end, closeAt) || changed(fd, pageEnd, closeAt);
}

function changed(fd: number, at: number, closeAt: number): boolean {
  const length = Math.min(2, closeAt - at);
  return length > 0 && !readAt(fd, at, length).equals(reserveBytes(at, at + length));
}
