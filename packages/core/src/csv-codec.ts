// The CSV form of an event: the first seed's five columns first, then the rest; cells that a
// spreadsheet would run as a formula are neutralised with a leading apostrophe (OWASP).
import { stringify } from 'csv-stringify/sync';
import type { AuditEvent, Details, EventSource } from './event';

/** CSV columns, in order: the first seed's five, then identity and integrity. */
export const CSV_COLUMNS = ['timestamp', 'action_type', 'status', 'details', 'error', 'actor', 'source', 'id', 'seq', 'prev_hash', 'hash'] as const;

/** The header line, with its newline. */
export const CSV_HEADER = CSV_COLUMNS.join(',') + '\n';

const FORMULA = /^'*[=+\-@\t\r]/;
const NEUTRALISED = /^'+[=+\-@\t\r]/;

/** Prefixes an apostrophe to a cell a spreadsheet would evaluate (=, +, -, @, tab, CR, after any apostrophes). */
export function neutraliseCell(value: string): string {
  return FORMULA.test(value) ? "'" + value : value;
}

/** Undoes `neutraliseCell`. */
export function restoreCell(value: string): string {
  return NEUTRALISED.test(value) ? value.slice(1) : value;
}

/** One CSV record (with its newline) for an event. */
export function eventToCsv(event: AuditEvent): string {
  return stringify([
    [
      event.timestamp,
      neutraliseCell(event.action_type),
      neutraliseCell(event.status),
      JSON.stringify(event.details),
      event.error === null ? '' : neutraliseCell(event.error),
      event.actor === null ? '' : neutraliseCell(event.actor),
      JSON.stringify(event.source),
      event.id,
      String(event.seq),
      event.prev_hash,
      event.hash,
    ],
  ]);
}

/** Rebuilds an event from a parsed CSV record keyed by column; the seed's five-column rows get empty defaults. */
export function csvToEvent(record: Record<string, string>): AuditEvent {
  const text = (key: string): string => restoreCell(record[key] ?? '');
  const orNull = (key: string): string | null => (record[key] === undefined || record[key] === '' ? null : text(key));
  return {
    id: record.id ?? '',
    seq: record.seq ? Number(record.seq) : 0,
    timestamp: record.timestamp ?? '',
    action_type: text('action_type'),
    status: text('status'),
    details: record.details ? (JSON.parse(record.details) as Details) : {},
    error: orNull('error'),
    actor: orNull('actor'),
    source: record.source ? (JSON.parse(record.source) as EventSource) : ({} as EventSource),
    prev_hash: record.prev_hash ?? '',
    hash: record.hash ?? '',
  };
}

/** Matches the fixed-format last four cells of one of our records: id, seq, prev_hash, hash. */
export const CSV_TAIL = /,([0-9a-f-]{36}),(\d+),([0-9a-f]{64}),([0-9a-f]{64})$/;
