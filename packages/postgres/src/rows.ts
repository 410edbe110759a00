// Turns audit events into table rows that Postgres always accepts, and encodes them for COPY.
//
// Postgres refuses two things JavaScript strings may hold: U+0000 (in text, and as \u0000 in
// jsonb) and unpaired UTF-16 surrogates (invalid in jsonb; silently turned into U+FFFD on the
// wire for text). A batch holding either would fail forever, so such characters are stored as
// U+FFFD in the queryable columns and the event's exact JSON goes to `raw_event`, from which
// its canonical form (and so its hash) can still be recomputed.
import type { AuditEvent } from '@auditrail/core';
import { COLUMNS } from './schema';

/** One row's values in COLUMNS order, as the text Postgres parses (null for SQL NULL). */
export type RowValues = (string | null)[];

/** An event that cannot be stored at all (not one the logger produces: a hand-edited journal line). */
export class UnstorableEventError extends Error {
  /** The event's id, if it has a usable one. */
  readonly eventId: string | undefined;
  constructor(event: Partial<AuditEvent>, problem: string) {
    super(`event ${typeof event.id === 'string' ? event.id : '(no id)'} cannot be stored: ${problem}`);
    this.name = 'UnstorableEventError';
    this.eventId = typeof event.id === 'string' ? event.id : undefined;
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?Z$/;
/** The exact form clock.ts writes, which to_char(... 'US') gives back. */
const CANONICAL_TIMESTAMP = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const EVENT_KEYS = new Set(['id', 'seq', 'timestamp', 'action_type', 'status', 'details', 'error', 'actor', 'source', 'prev_hash', 'hash']);
/** A NUL or a surrogate: the only characters that need a closer look. */
const SUSPECT_CHAR = /[\0\ud800-\udfff]/;
const UNSTORABLE_CHAR = /\0|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
/** Every escape sequence of JSON text, so that `\\u0000` (an escaped backslash) is not misread. */
const JSON_ESCAPE = /\\(?:u[0-9a-fA-F]{4}|.)/g;

const RAW_EVENT = COLUMNS.findIndex((c) => c.name === 'raw_event');

/** Replacement for characters Postgres cannot store. */
export const REPLACEMENT_CHAR = '\ufffd';

/** Builds the row of an event; throws UnstorableEventError if it has no usable id, seq or timestamp. */
export function eventToRow(event: AuditEvent): RowValues {
  if (typeof event.id !== 'string' || !UUID.test(event.id)) throw new UnstorableEventError(event, `id ${JSON.stringify(event.id)} is not a UUID`);
  if (!Number.isSafeInteger(event.seq)) throw new UnstorableEventError(event, `seq ${JSON.stringify(event.seq)} is not an integer`);
  if (typeof event.timestamp !== 'string' || !TIMESTAMP.test(event.timestamp) || Number.isNaN(Date.parse(event.timestamp))) {
    throw new UnstorableEventError(event, `timestamp ${JSON.stringify(event.timestamp)} is not ISO 8601 UTC`);
  }
  if (typeof event.action_type !== 'string' || typeof event.status !== 'string') throw new UnstorableEventError(event, 'action_type and status must be strings');
  const state = { lossy: !CANONICAL_TIMESTAMP.test(event.timestamp) || !hasOnlyEventKeys(event) };
  const source = (typeof event.source === 'object' && event.source !== null ? event.source : {}) as Record<string, unknown>;
  const row: RowValues = [
    event.id,
    String(event.seq),
    event.timestamp,
    storableText(event.action_type, state),
    storableText(event.status, state),
    storableJson(event.details ?? {}, state),
    nullableText(event.error, state),
    nullableText(event.actor, state),
    storableJson(source, state),
    typeof source.experiment === 'string' ? storableText(source.experiment, state) : null,
    typeof source.log === 'string' ? storableText(source.log, state) : null,
    nullableText(event.prev_hash, state),
    nullableText(event.hash, state),
    null,
  ];
  // JSON.stringify escapes NUL and lone surrogates, so the exact event is always storable as text.
  if (state.lossy) row[RAW_EVENT] = JSON.stringify(event);
  return row;
}

function hasOnlyEventKeys(event: AuditEvent): boolean {
  const keys = Object.keys(event);
  return keys.length === EVENT_KEYS.size && keys.every((key) => EVENT_KEYS.has(key));
}

function nullableText(value: unknown, state: { lossy: boolean }): string | null {
  if (value === null || value === undefined) return null;
  if (typeof value !== 'string') {
    state.lossy = true;
    return storableText(JSON.stringify(value), state);
  }
  return storableText(value, state);
}

function storableText(value: string, state: { lossy: boolean }): string {
  if (!SUSPECT_CHAR.test(value)) return value;
  const cleaned = value.replace(UNSTORABLE_CHAR, REPLACEMENT_CHAR);
  if (cleaned !== value) state.lossy = true;
  return cleaned;
}

/** JSON text for a jsonb column, with \u0000 and lone-surrogate escapes replaced by U+FFFD. */
function storableJson(value: unknown, state: { lossy: boolean }): string {
  const json = JSON.stringify(value) ?? 'null';
  // JSON.stringify writes \u escapes only for control characters and lone surrogates: rare.
  if (!json.includes('\\u')) return json;
  let changed = false;
  const cleaned = json.replace(JSON_ESCAPE, (escape) => {
    if (escape === '\\u0000' || /^\\u[dD][89a-fA-F]/.test(escape)) {
      changed = true;
      return REPLACEMENT_CHAR;
    }
    return escape;
  });
  if (changed) state.lossy = true;
  return cleaned;
}

/** Rows in COPY's text format: tab-separated, `\N` for NULL, backslash escapes, one line per row. */
export function copyText(rows: readonly RowValues[]): string {
  let out = '';
  for (const row of rows) {
    for (let i = 0; i < row.length; i++) {
      const value = row[i];
      out += (i === 0 ? '' : '\t') + (value === null ? '\\N' : escapeCopy(value));
    }
    out += '\n';
  }
  return out;
}

const COPY_SPECIAL = /[\\\n\r\t]/;
const COPY_SPECIAL_ALL = /[\\\n\r\t]/g;
const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\n': '\\n', '\r': '\\r', '\t': '\\t' };

function escapeCopy(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(COPY_SPECIAL_ALL, (c) => COPY_ESCAPES[c]!) : value;
}

/** Rows as one array per column, for `unnest($1::uuid[], ...)`. */
export function columnArrays(rows: readonly RowValues[]): (string | null)[][] {
  return COLUMNS.map((_, i) => rows.map((row) => row[i] ?? null));
}
