// The last N matching events of a JSONL file, read backwards from its end as `tail` does, so a
// `tail -n 10` of a million-event journal reads a few kilobytes instead of the whole file.
import type { FileHandle } from 'node:fs/promises';
import type { AuditEvent } from '@auditrail/core';
import { parseEventJson } from './record-parsers';

const CHUNK = 1 << 16;
const NEWLINE = 0x0a;

/** What a backward read found. */
export interface LastLines {
  /** The matching events, oldest first (at most the count asked for). */
  events: AuditEvent[];
  /** The last whole event of the file, matching or not: where following starts. */
  newest: AuditEvent | undefined;
  /** Offset just after the last whole line; a torn last line (no newline yet) is left for later. */
  end: number;
}

/** Reads whole lines backwards from `size` until `count` events pass `accept` or the file's start is reached. */
export async function readLastLines(
  handle: FileHandle,
  size: number,
  count: number,
  accept: (event: AuditEvent) => boolean,
  problem: (message: string) => void,
): Promise<LastLines> {
  const found: AuditEvent[] = [];
  let newest: AuditEvent | undefined;
  let end: number | undefined;
  let position = size;
  let carry = Buffer.alloc(0); // the end of a line that begins in the chunk before (its newline cut off)
  const done = (): boolean => found.length >= count && newest !== undefined;
  while (position > 0 && !done()) {
    const start = Math.max(0, position - CHUNK);
    const chunk = Buffer.alloc(position - start);
    await readFully(handle, chunk, start);
    position = start;
    let data = Buffer.concat([chunk, carry]);
    if (end === undefined) {
      // Bytes after the last newline are a line still being written: not ours yet.
      const last = data.lastIndexOf(NEWLINE);
      if (last < 0 && position > 0) {
        carry = data;
        continue;
      }
      end = position + last + 1;
      data = data.subarray(0, last + 1);
    }
    // Split on bytes, not text, so a character cut by the chunk boundary is never decoded in halves.
    carry = Buffer.alloc(0);
    if (position > 0) {
      const first = data.indexOf(NEWLINE);
      if (first < 0) {
        carry = data;
        continue;
      }
      carry = data.subarray(0, first);
      data = data.subarray(first + 1);
    }
    const lines = data.toString('utf8').split('\n');
    for (let i = lines.length - 1; i >= 0 && !done(); i--) {
      const text = lines[i]!.trim();
      if (text === '') continue;
      const event = parseEventJson(text);
      if (!event) {
        problem(`not an audit event: ${text.length > 80 ? text.slice(0, 77) + '...' : text}`);
        continue;
      }
      newest ??= event;
      if (found.length < count && accept(event)) found.push(event);
    }
  }
  return { events: found.reverse(), newest, end: end ?? 0 };
}

async function readFully(handle: FileHandle, buffer: Buffer, position: number): Promise<void> {
  let got = 0;
  while (got < buffer.length) {
    const { bytesRead } = await handle.read(buffer, got, buffer.length - got, position + got);
    if (bytesRead === 0) throw new Error(`the file ended while reading at ${position + got} (truncated meanwhile)`);
    got += bytesRead;
  }
}
