// Incremental parsers for a log that is still being written: they take the bytes after the last
// whole record and return only whole records, so a torn last line waits until it is complete.
import { AuditReadError, csvToEvent, type AuditEvent } from '@auditrail/core';

/** What a parser made of a chunk of bytes. */
export interface ParsedChunk {
  /** Whole events, in file order. */
  events: AuditEvent[];
  /** Bytes of the chunk that were whole records (or separators): the next read starts after them. */
  consumed: number;
  /** Records that were whole but could not be read, each named by what is wrong. */
  problems: string[];
  /** The parser reached the end of the records written so far (a JSON array's reserve or "]"): nothing more to read now. */
  atEnd?: boolean;
}

/** Reads one format from a sequence of chunks; keeps state between chunks (the CSV header). */
export interface RecordParser {
  /**
   * Parses the whole records at the start of `chunk`, which always starts at a record boundary;
   * undefined when the content is not in a layout that can be read a record at a time.
   */
  parse(chunk: Buffer): ParsedChunk | undefined;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;

/** JSONL: one event a line. */
export function jsonlParser(): RecordParser {
  return {
    parse(chunk) {
      const end = chunk.lastIndexOf(NEWLINE) + 1;
      const result: ParsedChunk = { events: [], consumed: end, problems: [] };
      for (const line of chunk.subarray(0, end).toString('utf8').split('\n')) {
        const text = line.trim();
        if (text === '') continue;
        const event = parseEventJson(text);
        if (event) result.events.push(event);
        else result.problems.push(`not an audit event: ${preview(text)}`);
      }
      return result;
    },
  };
}

/**
 * Our JSON array: "[", then one event a line ("{...}," but the last, a comma perhaps after a gap
 * of spaces), then whitespace reserved for the next events, then "]". Events are written into the
 * reserve, right after the last one: so a record is consumed up to its last byte that is not
 * whitespace, never the whitespace after it. A whitespace-only line (the reserve) or the "]" is the
 * end for now. A last record that does not parse yet is waited for.
 * Returns undefined for content that is not in this layout (a pretty-printed array).
 */
export function jsonArrayParser(): RecordParser {
  return {
    parse(chunk) {
      const result: ParsedChunk = { events: [], consumed: 0, problems: [], atEnd: false };
      let start = 0;
      for (;;) {
        const newline = chunk.indexOf(NEWLINE, start);
        if (newline < 0) return result;
        const line = chunk.subarray(start, newline).toString('utf8');
        const text = line.trim();
        if (text === '' && start === 0) {
          start = newline + 1; // the rest of the line of the last record consumed
          continue;
        }
        if (text === ']' || text === '') return { ...result, atEnd: true };
        const record = text.endsWith(',') ? text.slice(0, -1).trimEnd() : text;
        if (record.startsWith('{')) {
          const event = parseEventJson(record);
          if (!event) return text.endsWith(',') || !atReserve(chunk, newline + 1) ? undefined : result; // a last record still being written
          result.events.push(event);
        } else if (record !== '[' && record !== '') {
          return undefined;
        }
        result.consumed = start + Buffer.byteLength(line.trimEnd());
        start = newline + 1;
      }
    },
  };
}

/** Whether the line at `start` is blank or "]", or there is no whole line there yet: the end of a JSON array's records. */
function atReserve(chunk: Buffer, start: number): boolean {
  const newline = chunk.indexOf(NEWLINE, start);
  if (newline < 0) return true;
  const text = chunk.subarray(start, newline).toString('utf8').trim();
  return text === '' || text === ']';
}

/** The columns without which a CSV file is not an audit log (the first seed's file has exactly five). */
const REQUIRED_CSV_COLUMNS = ['timestamp', 'action_type', 'status', 'details'];

/**
 * CSV with a header record; quoted cells may hold newlines, so records end at a newline outside
 * quotes. A header without the audit columns is an AuditReadError naming `path`.
 */
export function csvParser(path: string): RecordParser {
  let header: string[] | undefined;
  return {
    parse(chunk) {
      const end = lastRecordEnd(chunk);
      const result: ParsedChunk = { events: [], consumed: end, problems: [] };
      for (const record of splitCsv(chunk.subarray(0, end).toString('utf8'))) {
        if (record.length === 1 && record[0] === '') continue;
        if (!header) {
          header = record.map((cell) => cell.replace(/^\uFEFF/, '').trim());
          const missing = REQUIRED_CSV_COLUMNS.filter((column) => !header!.includes(column));
          if (missing.length > 0) throw new AuditReadError(`${path} is not an audit log CSV: its header lacks ${missing.join(', ')}`);
          continue;
        }
        if (record.length !== header.length) {
          result.problems.push(`a CSV record has ${record.length} cells, the header ${header.length}: ${preview(record.join(','))}`);
          continue;
        }
        try {
          result.events.push(csvToEvent(Object.fromEntries(header.map((name, i) => [name, record[i]!]))));
        } catch (err) {
          result.problems.push(`a CSV record is malformed (${(err as Error).message}): ${preview(record.join(','))}`);
        }
      }
      return result;
    },
  };
}

/** One past the last newline that is outside a quoted cell; 0 when no record is complete. */
export function lastRecordEnd(chunk: Buffer): number {
  let quoted = false;
  let end = 0;
  for (let i = 0; i < chunk.length; i++) {
    const byte = chunk[i];
    if (byte === QUOTE) quoted = !quoted; // a doubled quote toggles twice
    else if (byte === NEWLINE && !quoted) end = i + 1;
  }
  return end;
}

/** Splits whole CSV records (RFC 4180: quoted cells, doubled quotes, CRLF or LF). */
export function splitCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      record.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      record.push(cell);
      records.push(record);
      record = [];
      cell = '';
    } else cell += c;
  }
  if (cell !== '' || record.length > 0) records.push([...record, cell]);
  return records;
}

/** Parses one JSON line into an event; undefined when it is not JSON or not an audit event. */
export function parseEventJson(text: string): AuditEvent | undefined {
  try {
    const value = JSON.parse(text) as unknown;
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    const event = value as Partial<AuditEvent>;
    return typeof event.action_type === 'string' && typeof event.status === 'string' ? (event as AuditEvent) : undefined;
  } catch {
    return undefined;
  }
}

function preview(text: string): string {
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}
