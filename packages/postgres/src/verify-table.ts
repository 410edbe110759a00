// Reads an audit table back as events, chain by chain in seq order, so core's verifier can check it (`auditrail verify --postgres`).
import { checkMilliseconds, InvalidOptionError, refuseMisspelledOptions, verifyEvents, type AuditEvent, type EventSource, type VerifyOptions, type VerifyReport } from '@auditrail/core';
import { readFileSync } from 'node:fs';
import { Client, type ClientBase } from 'pg';
import { withLibpqUser } from './connection';
import { checkIdentifier, qualifiedName } from './identifiers';

/** Rows fetched per query while walking a table. */
const PAGE = 5000;

/** Options of verifyPostgresTable. */
export interface VerifyTableOptions extends VerifyOptions {
  /** Connection string (the user defaults as in libpq: PGUSER, then the OS user), or an open client (left open). */
  connection: string | ClientBase;
  /** Table name. */
  table: string;
  /** Schema, or the search_path when omitted. */
  schema?: string;
  /** Only the chain of this log id (source.log); default: every chain in the table, each verified on its own. */
  logId?: string;
  /** Timeout of connecting and of each query, with a connection string (default 30,000 ms; 1 to MAX_TIMER_MS). */
  queryTimeoutMs?: number;
}

/** Every option's name, core's VerifyOptions included, for catching misspelled ones (the type check fails when this and VerifyTableOptions disagree). */
export const VERIFY_TABLE_OPTION_NAMES: readonly string[] = Object.keys({
  connection: 0,
  table: 0,
  schema: 0,
  logId: 0,
  queryTimeoutMs: 0,
  hmacKey: 0,
  publicKey: 0,
  checkpoints: 0,
  format: 0,
} satisfies Record<keyof VerifyTableOptions, 0>);

/** Verifies every chain (one per log id) stored in an audit table; one report, one log entry per chain. */
export async function verifyPostgresTable(options: VerifyTableOptions): Promise<VerifyReport> {
  if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'must be an object');
  refuseMisspelledOptions(options, VERIFY_TABLE_OPTION_NAMES);
  const table = qualifiedName(checkIdentifier('table', options.table), options.schema === undefined ? undefined : checkIdentifier('schema', options.schema));
  const timeout = checkMilliseconds('queryTimeoutMs', options.queryTimeoutMs ?? 30_000);
  const owned = typeof options.connection === 'string';
  if (!owned && typeof (options.connection as ClientBase | undefined)?.query !== 'function') throw new InvalidOptionError('connection', 'must be a connection string or a pg client');
  if (options.logId !== undefined && typeof options.logId !== 'string') throw new InvalidOptionError('logId', 'must be a string');
  const client: ClientBase = owned
    ? new Client(withLibpqUser({ connectionString: options.connection as string, connectionTimeoutMillis: timeout, statement_timeout: timeout, query_timeout: timeout }))
    : (options.connection as ClientBase);
  if (owned) await (client as Client).connect();
  try {
    const logIds =
      options.logId !== undefined
        ? [options.logId]
        : (await client.query<{ log_id: string | null }>(`SELECT DISTINCT log_id FROM ${table} ORDER BY log_id`)).rows.map((r) => r.log_id);
    if (logIds.length === 0) logIds.push(null);
    // A checkpoints file signs one log: apply it to the chain of that log id only.
    const signedLog = typeof options.checkpoints === 'string' ? checkpointsLogId(options.checkpoints) : undefined;
    let merged: VerifyReport | undefined;
    for (const logId of logIds) {
      const label = `${options.schema ? options.schema + '.' : ''}${options.table}${logIds.length > 1 || options.logId ? ` (log ${logId ?? 'none'})` : ''}`;
      const checkpoints = signedLog === undefined || signedLog === logId || logIds.length === 1 ? options.checkpoints : false;
      const report = await verifyEvents(tableEvents(client, table, logId), { ...options, checkpoints: checkpoints ?? false, label });
      if (!merged) merged = report;
      else {
        merged.logs.push(...report.logs);
        merged.ok &&= report.ok;
        merged.problem ??= report.problem;
        merged.checkpoints ??= report.checkpoints;
        for (const warning of report.warnings) if (!merged.warnings.includes(warning)) merged.warnings.push(warning);
      }
    }
    return merged!;
  } finally {
    if (owned) await (client as Client).end();
  }
}

/** The log id a checkpoints file signs (from its first line), if readable. */
function checkpointsLogId(path: string): string | undefined {
  try {
    const first = readFileSync(path, 'utf8').split('\n', 1)[0] ?? '';
    const log = (JSON.parse(first) as { log?: unknown }).log;
    return typeof log === 'string' ? log : undefined;
  } catch {
    return undefined;
  }
}

interface Row {
  id_text: string;
  seq_text: string;
  ts: string;
  action_type: string;
  status: string;
  details: string;
  error: string | null;
  actor: string | null;
  source: string;
  prev_hash: string | null;
  hash: string | null;
  raw_event: string | null;
}

/** The rows of one chain as events, by (seq, id), page by page (keyset pagination, no long transaction). */
export async function* tableEvents(client: ClientBase, table: string, logId: string | null): AsyncGenerator<AuditEvent> {
  let after: [string, string] = ['-1', '00000000-0000-0000-0000-000000000000'];
  const where = logId === null ? 'log_id IS NULL' : 'log_id = $3';
  for (;;) {
    const params: string[] = [after[0], after[1], ...(logId === null ? [] : [logId])];
    const { rows } = await client.query<Row>(
      `SELECT id::text AS id_text, seq::text AS seq_text,
              to_char("timestamp" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS ts,
              action_type, status, details::text AS details, error, actor, source::text AS source, prev_hash, hash, raw_event
         FROM ${table} WHERE ${where} AND (seq, id) > ($1::bigint, $2::uuid) ORDER BY seq, id LIMIT ${PAGE}`, // ordered by the bigint and uuid columns, not their text aliases
      params,
    );
    for (const row of rows) yield rowToEvent(row);
    if (rows.length < PAGE) return;
    const last = rows[rows.length - 1]!;
    after = [last.seq_text, last.id_text];
  }
}

/** A row as the event it was written from: the exact JSON in raw_event when the row had to be stored lossily. */
function rowToEvent(row: Row): AuditEvent {
  const event: AuditEvent = {
    id: row.id_text,
    seq: Number(row.seq_text),
    timestamp: row.ts,
    action_type: row.action_type,
    status: row.status,
    details: JSON.parse(row.details) as AuditEvent['details'],
    error: row.error,
    actor: row.actor,
    source: JSON.parse(row.source) as EventSource,
    prev_hash: row.prev_hash ?? '',
    hash: row.hash ?? '',
  };
  if (row.raw_event === null) return event;
  const raw = JSON.parse(row.raw_event) as AuditEvent;
  // The queryable columns must still agree with the exact copy on identity and chain.
  if (raw.id !== event.id || raw.seq !== event.seq || raw.hash !== event.hash || raw.prev_hash !== event.prev_hash) return event;
  return raw;
}
