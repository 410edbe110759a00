// Encodes and writes event text through one reused buffer: the hot path of every JSONL and JSON array event, so it allocates nothing per call.
import { writeSync } from 'node:fs';

/** Texts longer than this (in UTF-16 units, × 3 for UTF-8) get a buffer of their own instead of growing the shared one. */
const MAX_SHARED_BYTES = 1 << 20;
let shared = Buffer.allocUnsafe(1 << 16);

/**
 * `prefix`, `text` and, when `newline`, a '\n', in UTF-8, in a buffer shared by every file of the
 * thread: valid until the next call (writes are synchronous, so one buffer serves them all).
 */
export function encodeText(text: string, prefix = '', newline = false): Buffer {
  const worstCase = (prefix.length + text.length) * 3 + 1;
  let buffer = shared;
  if (worstCase > buffer.length) {
    buffer = Buffer.allocUnsafe(worstCase);
    if (worstCase <= MAX_SHARED_BYTES) shared = buffer;
  }
  // The buffer holds the worst case, so nothing is cut.
  let length = prefix === '' ? 0 : buffer.write(prefix);
  length += buffer.write(text, length);
  if (newline) buffer[length++] = 0x0a;
  return buffer.subarray(0, length);
}

/**
 * Writes `text` and, when `newline`, a '\n' at the file's position (the end, for a file opened
 * with O_APPEND), looping on short writes; returns the bytes written.
 */
export function appendText(fd: number, text: string, newline: boolean): number {
  const data = encodeText(text, '', newline);
  let offset = 0;
  while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
  return data.length;
}
