// Appends text to a file through one reused buffer: the hot path of every JSONL event, so it allocates nothing per call.
import { writeSync } from 'node:fs';

/** Texts longer than this (in UTF-16 units, × 3 for UTF-8) get a buffer of their own instead of growing the shared one. */
const MAX_SHARED_BYTES = 1 << 20;
let shared = Buffer.allocUnsafe(1 << 16);

/**
 * Writes `text` and, when `newline`, a '\n' at the file's position (the end, for a file opened
 * with O_APPEND), looping on short writes; returns the bytes written. Writes are synchronous,
 * so one buffer serves every file of the thread.
 */
export function appendText(fd: number, text: string, newline: boolean): number {
  const worstCase = text.length * 3 + 1;
  let buffer = shared;
  if (worstCase > buffer.length) {
    buffer = Buffer.allocUnsafe(worstCase);
    if (worstCase <= MAX_SHARED_BYTES) shared = buffer;
  }
  let length = buffer.write(text); // UTF-8, from offset 0; the buffer holds the worst case, so nothing is cut
  if (newline) buffer[length++] = 0x0a;
  let offset = 0;
  while (offset < length) offset += writeSync(fd, buffer, offset, length - offset);
  return length;
}
