// What the local and integrity scenarios share: the first seed's tag_add event, the logEvent loop, pino and the floor.
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { AuditLogger, outcomeStatuses, type AuditLoggerOptions, type WeightsLabCatalog } from '@auditrail/core';
import { benchDir, removeDir, startMeasure, type Measured } from './lib';

/** The first seed's tag_add details, built afresh for every call as a caller would. */
export function tagAddDetails(): WeightsLabCatalog['tag_add'] {
  return { tag_name: 'defect', samples_affected: 5, sample_ids: ['s1', 's2', 's3', 's4', 's5'], origins: ['train', 'train', 'val', 'val', 'test'] };
}

/** Every loop yields to the event loop this often, as a program doing other work would (timers, lease release). */
export const YIELD_EVERY = 1000;

/** Resolves on the next turn of the event loop. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** Options of one timed logEvent round. */
export interface LogRound {
  /** Events to log. */
  events: number;
  /** Logger options (rootLogDir is a fresh temp dir). */
  options: AuditLoggerOptions;
  /** Callers logging at once (default 1): each awaits its own logEvent before the next. */
  callers?: number;
  /** Called with the directory before it is removed (to keep a copy of the log). */
  inspect?: (dir: string) => void;
  /** Yield to the event loop after every event instead of every YIELD_EVERY. */
  yieldEachEvent?: boolean;
}

/** Logs tag_add events through a fresh logger and returns events/s; construction and close are not timed. */
export async function logEventRound(round: LogRound): Promise<number> {
  return (await logEventMeasured(round)).opsPerSec;
}

/** logEventRound, with the rate per CPU second too. */
export async function logEventMeasured(round: LogRound): Promise<Measured> {
  const dir = benchDir();
  const logger = new AuditLogger<WeightsLabCatalog>({ statuses: outcomeStatuses, ...round.options, rootLogDir: dir });
  const callers = round.callers ?? 1;
  const perCaller = Math.ceil(round.events / callers);
  const every = round.yieldEachEvent ? 1 : YIELD_EVERY;
  await logger.logEvent('tag_add', tagAddDetails(), 'success'); // opens the lease and the files
  const done = startMeasure();
  const worker = async (): Promise<void> => {
    for (let i = 1; i <= perCaller; i++) {
      await logger.logEvent('tag_add', tagAddDetails(), 'success');
      if (i % every === 0) await nextTurn();
    }
  };
  await Promise.all(Array.from({ length: callers }, worker));
  const measured = done(perCaller * callers);
  await logger.close();
  round.inspect?.(dir);
  removeDir(dir);
  return measured;
}

/** pino writing an equivalent object through a synchronous destination (fs.writeSync per line). */
export async function pinoRound(events: number, yieldEachEvent = false): Promise<number> {
  return (await pinoMeasured(events, yieldEachEvent)).opsPerSec;
}

/** pinoRound, with the rate per CPU second too. */
export async function pinoMeasured(events: number, yieldEachEvent = false): Promise<Measured> {
  const dir = benchDir();
  const destination = pino.destination({ dest: join(dir, 'pino.log'), sync: true });
  const log = pino({}, destination);
  const every = yieldEachEvent ? 1 : YIELD_EVERY;
  const done = startMeasure();
  for (let i = 1; i <= events; i++) {
    log.info({ action_type: 'tag_add', status: 'success', details: tagAddDetails(), error: null });
    if (i % every === 0) await nextTurn();
  }
  const measured = done(events);
  destination.flushSync();
  destination.end();
  removeDir(dir);
  return measured;
}

/** The lines of a JSONL log, each as the bytes written for it (newline included). */
export function jsonlLines(dir: string): Buffer[] {
  const text = readFileSync(join(dir, 'audit_log.jsonl'));
  const lines: Buffer[] = [];
  let start = 0;
  for (let i = text.indexOf(0x0a); i >= 0; i = text.indexOf(0x0a, start)) {
    lines.push(Buffer.from(text.subarray(start, i + 1)));
    start = i + 1;
  }
  return lines;
}

/** The floor: fs.writeSync of already-encoded lines to a file opened for appending, nothing else. */
export async function writeSyncRound(lines: readonly Buffer[], events: number): Promise<Measured> {
  const dir = benchDir();
  const fd = openSync(join(dir, 'floor.jsonl'), 'a', 0o600);
  const done = startMeasure();
  for (let i = 1; i <= events; i++) {
    writeSync(fd, lines[i % lines.length]!);
    if (i % YIELD_EVERY === 0) await nextTurn();
  }
  const measured = done(events);
  closeSync(fd);
  removeDir(dir);
  return measured;
}
