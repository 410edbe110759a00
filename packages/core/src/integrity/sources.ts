// Reads a log for verification: every event with its position and place, and unreadable records as such instead of errors.
import { createReadStream, existsSync, statSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { AuditEvent } from '../event';
import { FORMAT_FILES, type LogFormat } from '../format';
import { readEvents } from '../reader/read-events';
import { journalFiles } from '../rotation/segments';

/** The journal's files in order (closed segments, then the live file); kept here for existing importers. */
export { journalFiles };
import type { LocatedEvent } from './problems';

/** One log to verify: its format and files in reading order (closed journal segments first). */
export interface LogToVerify {
  /** Format of the files. */
  format: Exclude<LogFormat, 'none'>;
  /** Files in order. */
  files: string[];
}

/** The logs found at a target: a directory (every format present) or one file. */
export function logsAt(target: string): LogToVerify[] {
  const stat = statSync(target);
  if (stat.isFile()) {
    const name = basename(target);
    if (name.endsWith('.jsonl') || name.endsWith('.ndjson')) {
      return [{ format: 'jsonl', files: name === FORMAT_FILES.jsonl ? journalFiles(dirname(target)) : [target] }];
    }
    if (name.endsWith('.csv')) return [{ format: 'csv', files: [target] }];
    return [{ format: 'json', files: [target] }];
  }
  const logs: LogToVerify[] = [];
  const journal = journalFiles(target);
  if (journal.length > 0) logs.push({ format: 'jsonl', files: journal });
  for (const format of ['json', 'csv'] as const) {
    const path = join(target, FORMAT_FILES[format]);
    if (existsSync(path)) logs.push({ format, files: [path] });
  }
  return logs;
}

/** Streams the events of a log in chain order (a newest-first JSON array is reversed); JSONL comes in batches. */
export async function* locatedEvents(log: LogToVerify): AsyncGenerator<LocatedEvent | LocatedEvent[]> {
  if (log.format === 'jsonl') {
    let position = 0;
    for (const file of log.files) {
      for await (const batch of jsonlFile(file, position)) {
        if (batch.length > 0) position = batch[batch.length - 1]!.position;
        yield batch;
        if (batch[batch.length - 1]?.unreadable !== undefined) return;
      }
    }
    return;
  }
  if (log.format === 'json') {
    yield* jsonArray(log.files[0]!);
    return;
  }
  yield* positioned(readEvents({ path: log.files[0]!, format: 'csv' }), log.files[0]!);
}

/** The lines of a JSONL file as batches of located events (one batch per chunk read); stops after an unparsable line. */
async function* jsonlFile(file: string, before: number): AsyncGenerator<LocatedEvent[]> {
  let line = 0;
  let position = before;
  let carry: Buffer | undefined;
  const parse = (bytes: Buffer, batch: LocatedEvent[]): boolean => {
    line++;
    const text = bytes.toString('utf8');
    if (text.trim() === '') return true;
    position++;
    try {
      batch.push({ event: JSON.parse(text) as AuditEvent, position, file, line });
      return true;
    } catch (err) {
      batch.push({ event: {} as AuditEvent, position, file, line, unreadable: `line ${line} is not valid JSON (${(err as Error).message})` });
      return false;
    }
  };
  for await (const chunk of createReadStream(file, { highWaterMark: 256 * 1024 }) as AsyncIterable<Buffer>) {
    const data = carry ? Buffer.concat([carry, chunk]) : chunk;
    const batch: LocatedEvent[] = [];
    let start = 0;
    for (let nl = data.indexOf(0x0a); nl >= 0; nl = data.indexOf(0x0a, start)) {
      const ok = parse(data.subarray(start, nl), batch);
      start = nl + 1;
      if (!ok) {
        yield batch;
        return;
      }
    }
    carry = start < data.length ? data.subarray(start) : undefined;
    if (batch.length > 0) yield batch;
  }
  if (carry) {
    const batch: LocatedEvent[] = [];
    parse(carry, batch);
    if (batch.length > 0) yield batch;
  }
}

/** A JSON array is read whole (it is rewritten whole by its writers anyway) and put oldest first. */
async function* jsonArray(file: string): AsyncGenerator<LocatedEvent> {
  const events: AuditEvent[] = [];
  try {
    for await (const event of readEvents({ path: file, format: 'json' })) events.push(event);
  } catch (err) {
    yield { event: {} as AuditEvent, position: events.length + 1, file, unreadable: (err as Error).message };
    return;
  }
  const first = events[0]?.seq;
  const last = events[events.length - 1]?.seq;
  if (typeof first === 'number' && typeof last === 'number' && first > last) events.reverse();
  for (let i = 0; i < events.length; i++) yield { event: events[i]!, position: i + 1, file };
}

/** Positions events from any source (a database, memory) for the walker. */
export async function* positioned(events: AsyncIterable<AuditEvent> | Iterable<AuditEvent>, label?: string): AsyncGenerator<LocatedEvent> {
  let position = 0;
  try {
    for await (const event of events) {
      position++;
      yield { event, position, ...(label !== undefined ? { file: label } : {}) };
    }
  } catch (err) {
    yield { event: {} as AuditEvent, position: position + 1, ...(label !== undefined ? { file: label } : {}), unreadable: (err as Error).message };
  }
}
