// Reads events back from any local format (JSONL, JSON array in either order or pretty-printed, CSV), streaming where it can.
import { closeSync, createReadStream, existsSync, openSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { CSV_HEADER, CSV_TAIL, csvToEvent } from '../csv-codec';
import { AuditReadError } from '../errors';
import type { AuditEvent } from '../event';
import { lastLineBefore, lastNewlineBefore, readAt, sizeOf } from '../files/fs-util';
import { FORMAT_FILES, type LogFormat } from '../format';
import { journalFiles } from '../rotation/segments';

/** A log file found on disk and its format. */
export interface LogFileRef {
  /** Path of the file. */
  path: string;
  /** Its format. */
  format: Exclude<LogFormat, 'none'>;
}

/** Finds the log in a directory (jsonl, then json, then csv) or takes a file by its extension. */
export function locateLog(target: string): LogFileRef {
  let stat;
  try {
    stat = statSync(target);
  } catch {
    throw new AuditReadError(`No audit log at ${target}: no such file or directory`);
  }
  if (stat.isFile()) return { path: target, format: formatOfPath(target) };
  for (const format of ['jsonl', 'json', 'csv'] as const) {
    const path = join(target, FORMAT_FILES[format]);
    if (existsSync(path)) return { path, format };
  }
  throw new AuditReadError(`No audit log in ${target}: expected ${Object.values(FORMAT_FILES).join(', ')}`);
}

function formatOfPath(path: string): Exclude<LogFormat, 'none'> {
  if (path.endsWith('.jsonl') || path.endsWith('.ndjson')) return 'jsonl';
  if (path.endsWith('.json')) return 'json';
  if (path.endsWith('.csv')) return 'csv';
  throw new AuditReadError(`Cannot tell the format of ${path}: expected .jsonl, .json or .csv`);
}

/**
 * Streams the events of a log file or directory, in file order; a directory's JSONL journal is read
 * across its closed segments, then the live file. Malformed content raises AuditReadError naming the place.
 */
export async function* readEvents(target: string | LogFileRef): AsyncGenerator<AuditEvent> {
  const ref = typeof target === 'string' ? locateLog(target) : target;
  if (ref.format === 'jsonl' && typeof target === 'string' && ref.path !== target) {
    for (const path of journalFiles(target)) yield* readJsonl(path);
  } else if (ref.format === 'jsonl') yield* readJsonl(ref.path);
  else if (ref.format === 'json') yield* readJsonArray(ref.path);
  else yield* readCsv(ref.path);
}

/** One line of a file; `terminated` is false for a last line without its newline. */
interface Line {
  text: string;
  n: number;
  terminated: boolean;
}

/** The lines of a file, streamed. */
async function* linesOf(path: string): AsyncGenerator<Line> {
  const decoder = new StringDecoder('utf8');
  let rest = '';
  let n = 0;
  for await (const chunk of createReadStream(path)) {
    rest += decoder.write(chunk as Buffer);
    let start = 0;
    for (let nl = rest.indexOf('\n'); nl >= 0; nl = rest.indexOf('\n', start)) {
      yield { text: rest.slice(start, nl), n: ++n, terminated: true };
      start = nl + 1;
    }
    rest = rest.slice(start);
  }
  rest += decoder.end();
  if (rest !== '') yield { text: rest, n: n + 1, terminated: false };
}

/**
 * A last line without its newline is a write in progress (another process is appending) or
 * one torn by a crash, which the next writer moves to `.torn`: a reader skips it when it does
 * not parse. Any other malformed line is an error.
 */
async function* readJsonl(path: string): AsyncGenerator<AuditEvent> {
  for await (const line of linesOf(path)) {
    if (line.text.trim() === '') continue;
    if (!line.terminated && !parses(line.text)) return;
    yield parseLine(line.text, path, line.n);
  }
}

/** Our JSON arrays hold one event a line and stream; any other valid array is parsed whole. */
async function* readJsonArray(path: string): AsyncGenerator<AuditEvent> {
  const events: AuditEvent[] = [];
  for await (const line of linesOf(path)) {
    const text = line.text.trim();
    if ((line.n === 1 && text === '[') || text === ']' || text === '') continue;
    const body = text.endsWith(',') ? text.slice(0, -1) : text;
    if (line.n > 1 && text.startsWith('{') && !line.terminated && !parses(body)) break; // an append in progress
    let event: AuditEvent | undefined;
    if (line.n > 1 && text.startsWith('{')) {
      try {
        event = JSON.parse(body) as AuditEvent;
      } catch {
        event = undefined;
      }
    }
    if (event === undefined) {
      yield* parseWholeArray(path);
      return;
    }
    events.push(event);
    if (events.length >= 1024) yield* events.splice(0);
  }
  yield* events;
}

function parses(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

function parseWholeArray(path: string): AuditEvent[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new AuditReadError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
  if (!Array.isArray(value)) throw new AuditReadError(`${path} holds JSON that is not an array of events`);
  return value as AuditEvent[];
}

async function* readCsv(path: string): AsyncGenerator<AuditEvent> {
  const end = csvReadableEnd(path);
  if (end === 0) return;
  const parser = createReadStream(path, { end: end - 1 }).pipe(parse({ columns: true, relax_column_count: false, bom: true }));
  let n = 1;
  try {
    for await (const record of parser as AsyncIterable<Record<string, string>>) {
      n++;
      try {
        yield csvToEvent(record);
      } catch (err) {
        throw new AuditReadError(`${path}: record ${n} is malformed: ${(err as Error).message}`);
      }
    }
  } catch (err) {
    if (err instanceof AuditReadError) throw err;
    throw new AuditReadError(`${path} is not valid CSV: ${(err as Error).message}`);
  }
}

/**
 * Where the last whole record of one of our CSV files ends (it ends with the hash cell and a
 * newline): what follows is an append in progress or a torn record. Other CSV files are read whole.
 */
function csvReadableEnd(path: string): number {
  const fd = openSync(path, 'r');
  try {
    const size = sizeOf(fd);
    if (readAt(fd, 0, CSV_HEADER.length).toString('utf8') !== CSV_HEADER) return size;
    let end = size;
    while (end > CSV_HEADER.length) {
      if (readAt(fd, end - 1, 1)[0] === 0x0a) {
        const line = lastLineBefore(fd, end);
        if (line && CSV_TAIL.test(line.text)) break;
      }
      end = lastNewlineBefore(fd, end - 1) + 1;
    }
    return Math.max(end, CSV_HEADER.length);
  } finally {
    closeSync(fd);
  }
}

function parseLine(line: string, path: string, n: number): AuditEvent {
  try {
    return JSON.parse(line) as AuditEvent;
  } catch (err) {
    throw new AuditReadError(`${path}:${n} is not valid JSON: ${(err as Error).message}`);
  }
}
