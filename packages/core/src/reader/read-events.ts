// Reads events back from any local format (JSONL, JSON array in either order or pretty-printed, CSV), streaming where it can.
import { createReadStream, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parse } from 'csv-parse';
import { csvToEvent } from '../csv-codec';
import { AuditReadError } from '../errors';
import type { AuditEvent } from '../event';
import { FORMAT_FILES, type LogFormat } from '../format';

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

/** Streams the events of a log file or directory, in file order. Malformed content raises AuditReadError naming the place. */
export async function* readEvents(target: string | LogFileRef): AsyncGenerator<AuditEvent> {
  const ref = typeof target === 'string' ? locateLog(target) : target;
  if (ref.format === 'jsonl') yield* readJsonl(ref.path);
  else if (ref.format === 'json') yield* readJsonArray(ref.path);
  else yield* readCsv(ref.path);
}

async function* readJsonl(path: string): AsyncGenerator<AuditEvent> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  for await (const line of lines) {
    n++;
    if (line.trim() === '') continue;
    yield parseLine(line, path, n);
  }
}

/** Our JSON arrays hold one event a line and stream; any other valid array is parsed whole. */
async function* readJsonArray(path: string): AsyncGenerator<AuditEvent> {
  const lines = createInterface({ input: createReadStream(path, { encoding: 'utf8' }), crlfDelay: Infinity });
  let n = 0;
  const events: AuditEvent[] = [];
  for await (const line of lines) {
    n++;
    const text = line.trim();
    if ((n === 1 && text === '[') || text === ']' || text === '') continue;
    if (n === 1 || !text.startsWith('{')) {
      lines.close();
      yield* parseWholeArray(path);
      return;
    }
    let event: AuditEvent;
    try {
      event = JSON.parse(text.endsWith(',') ? text.slice(0, -1) : text) as AuditEvent;
    } catch {
      lines.close();
      yield* parseWholeArray(path);
      return;
    }
    events.push(event);
    if (events.length >= 1024) yield* events.splice(0);
  }
  yield* events;
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
  const parser = createReadStream(path).pipe(parse({ columns: true, relax_column_count: false, bom: true }));
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

function parseLine(line: string, path: string, n: number): AuditEvent {
  try {
    return JSON.parse(line) as AuditEvent;
  } catch (err) {
    throw new AuditReadError(`${path}:${n} is not valid JSON: ${(err as Error).message}`);
  }
}
