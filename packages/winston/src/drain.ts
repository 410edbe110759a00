// Waits until a winston transport has handed everything to the OS, and syncs a File transport's file to disk.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type TransportStream from 'winston-transport';
import winston from 'winston';
import { AuditWriteError } from '@auditrail/core';

/** The buffering fields winston's File and Stream transports keep (not public API: every one is checked before use). */
interface TransportBuffers {
  _stream?: unknown;
  _dest?: unknown;
  _opening?: unknown;
  _drain?: unknown;
  _rotate?: unknown;
}

/**
 * Whether a transport still holds data it has not handed to the OS. For winston's File and
 * Stream transports this reads their inner streams: the log() callback of File fires once the
 * line is in an in-memory PassThrough, long before the file has it.
 */
export function isBusy(transport: TransportStream): boolean {
  if (transport.writableLength > 0) return true;
  const inner = transport as unknown as TransportBuffers;
  if (inner._opening === true || inner._drain === true || inner._rotate === true) return true;
  for (const stream of [inner._stream, inner._dest]) {
    if (hasBuffered(stream)) return true;
  }
  if (transport instanceof winston.transports.Console) return hasBuffered(process.stdout) || hasBuffered(process.stderr);
  return false;
}

function hasBuffered(stream: unknown): boolean {
  if (typeof stream !== 'object' || stream === null) return false;
  const s = stream as { writableLength?: unknown; readableLength?: unknown; pending?: unknown; destroyed?: unknown; writableFinished?: unknown };
  if (s.destroyed === true || s.writableFinished === true) return false; // a closed file stream reports `pending` again
  return (typeof s.writableLength === 'number' && s.writableLength > 0) || (typeof s.readableLength === 'number' && s.readableLength > 0) || s.pending === true;
}

/**
 * Resolves once `busy()` is false. Polls on a short timer, which stays referenced on purpose:
 * someone awaits this (a flush or close), and the writes it waits for keep the process alive anyway.
 */
export function waitUntilIdle(busy: () => boolean, timeoutMs: number, what: string): Promise<void> {
  if (!busy()) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const deadline = performance.now() + timeoutMs;
    const check = (): void => {
      if (!busy()) return resolve();
      if (performance.now() > deadline) return reject(new AuditWriteError(what, new Error(`data still unwritten after ${timeoutMs} ms`)));
      setTimeout(check, 2);
    };
    setTimeout(check, 1);
  });
}

/** fsyncs the current file of a winston File transport, so what it wrote survives a power loss; other transports are left alone. */
export async function syncFileOf(transport: TransportStream): Promise<void> {
  if (!(transport instanceof winston.transports.File)) return;
  const file = transport as unknown as { dirname?: unknown; filename?: unknown };
  if (typeof file.dirname !== 'string' || typeof file.filename !== 'string') return;
  let handle;
  try {
    handle = await open(join(file.dirname, file.filename), 'r');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet (lazy File)
    throw err;
  }
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
