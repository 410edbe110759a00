// PostgresSink: writes batches of audit events to a table, exactly one row per event id.
//
//   export(batch) ─▶ rows (NUL-safe) ─▶ pool.connect ─▶ create table once (migrate)
//                 ─▶ COPY rows FROM STDIN                   fast path: one statement
//                    └ 23505 (a retried batch already there) ─▶ INSERT ... SELECT FROM unnest(...)
//                                                               ON CONFLICT (id) DO NOTHING
//                      └ a data error (22xxx, 23xxx) ─▶ halves, down to the single bad events
//                 ─▶ ok (bad events listed as rejected: dead-lettered alone)
//                  | retryable (connection, timeout, server state) | permanent (the table's shape)
import type { AuditEvent, BatchSink, DeliveryPolicy, EventFilter, ExportResult, RejectedEvent } from '@auditrail/core';
import { checkBoolean, checkMilliseconds, checkWholeNumber, InvalidOptionError, MAX_TIMER_MS, refuseMisspelledOptions } from '@auditrail/core';
import type { Pool, PoolClient, PoolConfig } from 'pg';
import { withClient, untilAborted } from './checkout';
import { createOwnPool, describeTarget } from './connection';
import { copyFrom, supportsCopy } from './copy-in';
import { classify, PostgresSinkError, sqlStateOf } from './errors';
import { checkIdentifier, qualifiedName } from './identifiers';
import { columnArrays, copyText, eventToRow, UnstorableEventError, type RowValues } from './rows';
import { COLUMN_LIST, COLUMNS, ddlScript, migrate, type TableRef } from './schema';

/** Options of `new PostgresSink(options)`. */
export interface PostgresSinkOptions {
  /** A libpq connection URI; without it (and without `pool`) the libpq variables PGHOST, PGUSER, ... apply. */
  connectionString?: string;
  /** A pool you own (not ended by `shutdown`); give it an 'error' listener, as pg asks. */
  pool?: Pool;
  /** pg client settings for the sink's own pool (host, port, user, password, database, ssl, application_name, ...). */
  client?: PoolConfig;
  /** Table name (default 'audit_events'); a plain identifier, quoted, so case-sensitive. */
  table?: string;
  /** Schema name; default: the connection's search_path. */
  schema?: string;
  /** Create the schema, table and indexes when missing (default true). */
  migrate?: boolean;
  /** Sink name in stats, errors and the cursor file (default 'postgres', or 'postgres-{schema}.{table}'). */
  name?: string;
  /** Which events reach this sink; all when omitted. */
  filter?: EventFilter;
  /** Batching, timeouts and retries for this sink, over the logger's `delivery.policy` and POSTGRES_DELIVERY. */
  delivery?: Partial<DeliveryPolicy>;
  /** Limit on each statement, server-side on the sink's own pool and client-side always (default 15,000 ms; at most MAX_TIMER_MS). */
  statementTimeoutMs?: number;
  /** Limit on opening a connection (default 5,000 ms; at most MAX_TIMER_MS). */
  connectTimeoutMs?: number;
  /** Connections of the sink's own pool (default 2). */
  maxConnections?: number;
}

/** Every option's name, for catching misspelled ones (the type check fails when this and PostgresSinkOptions disagree). */
export const POSTGRES_SINK_OPTION_NAMES: readonly string[] = Object.keys({
  connectionString: 0,
  pool: 0,
  client: 0,
  table: 0,
  schema: 0,
  migrate: 0,
  name: 0,
  filter: 0,
  delivery: 0,
  statementTimeoutMs: 0,
  connectTimeoutMs: 0,
  maxConnections: 0,
} satisfies Record<keyof PostgresSinkOptions, 0>);

const DEFAULT_TABLE = 'audit_events';

/**
 * The sink's own delivery defaults: large batches (each COPY is one commit, so one WAL flush)
 * and two in flight, so that building one batch overlaps the server storing the other. Rows
 * are keyed by id, so their order of arrival does not matter; the engine still commits its
 * cursor in order.
 */
export const POSTGRES_DELIVERY: Readonly<Partial<DeliveryPolicy>> = Object.freeze({ maxBatchSize: 2000, maxBatchBytes: 4 << 20, concurrency: 2 });

/** A batch sink writing audit events to PostgreSQL; exactly one row per event id however often a batch is retried. */
export class PostgresSink implements BatchSink {
  /** Name used in stats, errors and the cursor file. */
  readonly name: string;
  /** Which events reach this sink. */
  readonly filter: EventFilter | undefined;
  /** Its delivery policy, over the logger's: POSTGRES_DELIVERY, an export timeout above its own limits, and the `delivery` option. */
  readonly delivery: Partial<DeliveryPolicy>;
  /** The table written to. */
  readonly table: string;
  /** The table's schema, or undefined for the search_path. */
  readonly schema: string | undefined;
  private readonly pool: Pool;
  private readonly ownsPool: boolean;
  private readonly migrating: boolean;
  private readonly statementTimeoutMs: number;
  private readonly connectTimeoutMs: number;
  private readonly target: string;
  private readonly copySql: string;
  private readonly upsertSql: string;
  private migrated: Promise<void> | undefined;
  /** Set after a batch met rows already stored (a replay after a crash or a lost reply): skip COPY until one is clean. */
  private upsertMode = false;
  private closing: Promise<void> | undefined;

  constructor(options: PostgresSinkOptions = {}) {
    if (typeof options !== 'object' || options === null) throw new InvalidOptionError('options', 'must be an object');
    // `client` is pg's PoolConfig and `delivery` core's policy (checked by the logger): their keys are not judged here.
    refuseMisspelledOptions(options, POSTGRES_SINK_OPTION_NAMES);
    if (options.pool !== undefined && (options.connectionString !== undefined || options.client !== undefined)) {
      throw new InvalidOptionError('pool', 'give either a pool, or connectionString/client settings for the sink to build one, not both');
    }
    if (options.connectionString !== undefined && typeof options.connectionString !== 'string') throw new InvalidOptionError('connectionString', 'must be a string');
    if (options.client !== undefined && (typeof options.client !== 'object' || options.client === null)) throw new InvalidOptionError('client', 'must be an object of pg client settings');
    this.table = checkIdentifier('table', options.table ?? DEFAULT_TABLE);
    this.schema = options.schema === undefined ? undefined : checkIdentifier('schema', options.schema);
    this.migrating = checkBoolean('migrate', options.migrate ?? true);
    this.statementTimeoutMs = checkMilliseconds('statementTimeoutMs', options.statementTimeoutMs ?? 15_000);
    this.connectTimeoutMs = checkMilliseconds('connectTimeoutMs', options.connectTimeoutMs ?? 5_000);
    const maxConnections = checkWholeNumber('maxConnections', options.maxConnections ?? 2, 1);
    this.name = options.name ?? defaultName(this.table, this.schema);
    if (typeof this.name !== 'string' || this.name.length === 0) throw new InvalidOptionError('name', 'must be a non-empty string');
    if (/[\0-\x1f\x7f]/.test(this.name)) throw new InvalidOptionError('name', 'must not contain control characters');
    this.filter = options.filter;
    // The engine's export timeout sits a second above the sink's own limits, which end the attempt first (both capped at MAX_TIMER_MS).
    this.delivery = { ...POSTGRES_DELIVERY, exportTimeoutMs: Math.min(this.ownLimitMs + 1000, MAX_TIMER_MS), ...options.delivery };
    this.target = qualifiedName(this.table, this.schema);
    this.copySql = `COPY ${this.target} (${COLUMN_LIST}) FROM STDIN`;
    const unnest = COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ');
    this.upsertSql = `INSERT INTO ${this.target} (${COLUMN_LIST}) SELECT * FROM unnest(${unnest}) ON CONFLICT ("id") DO NOTHING`;
    this.ownsPool = options.pool === undefined;
    this.pool =
      options.pool ??
      createOwnPool({
        connectionString: options.connectionString,
        client: options.client,
        maxConnections,
        connectTimeoutMs: this.connectTimeoutMs,
        statementTimeoutMs: this.statementTimeoutMs,
      });
  }

  /** The DDL this sink runs when `migrate` is on (or a DBA runs by hand when it is off). */
  get ddl(): string {
    return ddlScript(this.tableRef);
  }

  /** Creates the table and indexes now if missing (they are otherwise created on the first batch); rejects with a PostgresSinkError. */
  async ensureTable(): Promise<void> {
    const deadline = this.deadline();
    const work = withClient(this.pool, deadline, (client) => {
      this.migrated = undefined;
      return this.migrateOnce(client);
    });
    try {
      await untilAborted(work, deadline);
    } catch (err) {
      throw this.error(err, deadline, `creating ${this.target}`);
    }
  }

  /**
   * Writes one batch; idempotent by event id, so a retried batch never duplicates a row. An
   * event Postgres refuses for its content is listed in `rejected` (and dead-lettered alone by
   * the engine) while the rest of the batch is stored.
   */
  async export(batch: readonly AuditEvent[], signal: AbortSignal): Promise<ExportResult> {
    if (this.closing) return { code: 'retryable', error: new PostgresSinkError(this.name, 'export after shutdown', new Error('the sink is shut down'), 'retryable') };
    const rows: IndexedRow[] = [];
    const rejected: RejectedEvent[] = [];
    batch.forEach((event, index) => {
      try {
        rows.push({ index, values: eventToRow(event) });
      } catch (err) {
        if (!(err instanceof UnstorableEventError)) throw err;
        rejected.push({ index, reason: err.message });
      }
    });
    if (rows.length > 0) {
      const deadline = this.deadline(signal);
      try {
        rejected.push(...(await untilAborted(this.writeRows(rows, deadline), deadline)));
      } catch (err) {
        const error = this.error(err, deadline, `writing to ${this.target}`);
        return error.kind === 'retryable' ? { code: 'retryable', error } : { code: 'permanent', error };
      }
    }
    return rejected.length === 0 ? { code: 'ok' } : { code: 'ok', rejected: rejected.sort((a, b) => a.index - b.index) };
  }

  /** Ends the sink's own pool (a pool passed in is left to its owner); idempotent. */
  shutdown(): Promise<void> {
    this.closing ??= this.ownsPool ? this.pool.end().catch(() => undefined) : Promise.resolve();
    return this.closing;
  }

  private get tableRef(): TableRef {
    return { table: this.table, schema: this.schema };
  }

  /** The sink's own limit on one attempt: connecting plus one statement, capped at MAX_TIMER_MS (a longer timer would fire at once). */
  private get ownLimitMs(): number {
    return Math.min(this.connectTimeoutMs + this.statementTimeoutMs, MAX_TIMER_MS);
  }

  /** Aborts at the engine's signal or after the sink's own limits, whichever comes first. */
  private deadline(signal?: AbortSignal): AbortSignal {
    const own = AbortSignal.timeout(this.ownLimitMs);
    return signal ? AbortSignal.any([signal, own]) : own;
  }

  private writeRows(rows: IndexedRow[], deadline: AbortSignal): Promise<RejectedEvent[]> {
    return withClient(this.pool, deadline, async (client) => {
      try {
        if (this.migrating) await this.migrateOnce(client);
        return await this.insert(client, rows);
      } catch (err) {
        if (this.migrating && sqlStateOf(err) === '42P01') this.migrated = undefined; // dropped meanwhile: create it again
        throw err;
      }
    });
  }

  private async insert(client: PoolClient, rows: IndexedRow[]): Promise<RejectedEvent[]> {
    if (!this.upsertMode && supportsCopy(client)) {
      try {
        await copyFrom(client, this.copySql, Buffer.from(copyText(rows.map((r) => r.values))));
        return [];
      } catch (err) {
        // COPY is all or nothing: after a unique violation (rows stored already) or a data error, nothing of it stayed.
        if (sqlStateOf(err) !== '23505' && !isRowError(err)) throw err;
      }
    }
    return this.upsert(client, rows);
  }

  /** INSERT ... ON CONFLICT DO NOTHING; on a data error, the halves are tried until the bad events stand alone. */
  private async upsert(client: PoolClient, rows: IndexedRow[]): Promise<RejectedEvent[]> {
    try {
      const result = await client.query({ text: this.upsertSql, values: columnArrays(rows.map((r) => r.values)) });
      this.upsertMode = (result.rowCount ?? 0) < rows.length;
      return [];
    } catch (err) {
      if (!isRowError(err)) throw err;
      if (rows.length === 1) return [{ index: rows[0]!.index, reason: `Postgres refused the event: ${(err as Error).message} (SQLSTATE ${sqlStateOf(err)})` }];
      const middle = rows.length >> 1;
      const first = await this.upsert(client, rows.slice(0, middle));
      return [...first, ...(await this.upsert(client, rows.slice(middle)))];
    }
  }

  private migrateOnce(client: PoolClient): Promise<void> {
    this.migrated ??= migrate(client, this.tableRef).catch((err: unknown) => {
      this.migrated = undefined;
      throw err;
    });
    return this.migrated;
  }

  /** The typed error of a failed attempt: a timeout, an unreachable server, or what the server said. */
  private error(err: unknown, deadline: AbortSignal, doing: string): PostgresSinkError {
    if (deadline.aborted && !sqlStateOf(err)) return new PostgresSinkError(this.name, `${doing} timed out or was aborted`, deadline.reason ?? err, 'retryable');
    const state = sqlStateOf(err);
    const unreachable = state === undefined || state.startsWith('28') || state === '3D000';
    return new PostgresSinkError(this.name, unreachable ? `cannot reach ${describeTarget(this.pool)}` : doing, err, classify(err, this.migrating));
  }
}

/** A row and the position of its event in the batch. */
interface IndexedRow {
  readonly index: number;
  readonly values: RowValues;
}

/** A refusal caused by one row's content (data exception, constraint), not by the table or the server. */
function isRowError(err: unknown): boolean {
  const state = sqlStateOf(err);
  return state !== undefined && (state.startsWith('22') || state.startsWith('23'));
}

function defaultName(table: string, schema: string | undefined): string {
  if (table === DEFAULT_TABLE && schema === undefined) return 'postgres';
  return `postgres-${schema === undefined ? '' : schema + '.'}${table}`;
}
