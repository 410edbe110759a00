// Which Postgres failures are worth retrying, and the typed error that says so in plain words.
import { errorMessage, SinkError } from '@auditrail/core';

/** What the delivery engine should do with a failed batch. */
export type FailureKind = 'retryable' | 'permanent';

/** A failure of the Postgres sink, with the SQLSTATE when the server sent one. */
export class PostgresSinkError extends SinkError {
  /** The five-character SQLSTATE, if the server reported one. */
  readonly sqlState: string | undefined;
  /** Whether the batch is kept and retried ('retryable') or dead-lettered ('permanent'). */
  readonly kind: FailureKind;
  constructor(sink: string, what: string, cause: unknown, kind: FailureKind) {
    super(sink, cause);
    this.sqlState = sqlStateOf(cause);
    this.kind = kind;
    const state = this.sqlState ? ` (SQLSTATE ${this.sqlState})` : '';
    const next = kind === 'retryable' ? 'the events are kept and retried' : 'the events are not retried';
    this.message = `Sink "${sink}" failed: ${what}: ${messageOf(cause)}${state}; ${next}${adviceFor(this.sqlState)}`;
  }
}

/** The SQLSTATE of a pg error, if any. */
export function sqlStateOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/**
 * Retryable: anything about reaching, authenticating to or the state of the server (network
 * errors, timeouts, class 08 connection, 28 authorization, 3D000 missing database, 40 rollbacks,
 * 53 resources, 55P03/55006 locks, 57 operator intervention, 58 system, XX internal, 25006 read-only
 * standby, 42501 missing privilege, unknown codes): fixing the server or the grant lets the same
 * events through. Permanent: what is wrong with the batch or the table's shape (22 data, 23
 * constraints, 42 syntax/undefined column, 42P01 missing table without migration, 0A, P0 raised
 * by a trigger), where retrying would fail the same way forever.
 */
export function classify(err: unknown, migrating: boolean): FailureKind {
  const state = sqlStateOf(err);
  if (state === undefined) return 'retryable';
  if (state === '42P01' || state === '3F000') return migrating ? 'retryable' : 'permanent';
  if (state === '42501') return 'retryable';
  const cls = state.slice(0, 2);
  return ['22', '23', '42', '0A', 'P0', '2F', '39', '44'].includes(cls) ? 'permanent' : 'retryable';
}

function adviceFor(state: string | undefined): string {
  if (state === undefined) return '';
  if (state.startsWith('28')) return ' (check the user and password)';
  if (state === '3D000') return ' (create the database or fix its name)';
  if (state === '42501') return ' (grant the sink\'s role the missing privilege)';
  if (state === '42P01' || state === '3F000') return ' (create the table, or let the sink do it with migrate: true)';
  if (state === '42703') return ' (the table lacks a column the sink writes: see docs/sinks/postgres.md for the DDL)';
  return '';
}

/**
 * core's errorMessage, plus what pg's failures need: the errors inside an AggregateError (a
 * connection refused on both IPv4 and IPv6 comes as one, with an empty message), and the code or
 * name of an Error without a message.
 */
function messageOf(err: unknown): string {
  if (err instanceof AggregateError && err.errors.length > 0) return err.errors.map(messageOf).join('; ');
  if (err instanceof Error && err.message === '') return (err as { code?: string }).code || err.name;
  return errorMessage(err);
}
