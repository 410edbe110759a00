// The table the sink writes: its columns, its DDL, and the migration that creates it when missing.
import type { ClientBase } from 'pg';
import { indexName, qualifiedName, quoteIdentifier } from './identifiers';

/** A column of the audit table, in insertion order. */
export interface ColumnSpec {
  /** Column name (a plain lowercase identifier). */
  readonly name: string;
  /** Postgres type, as used in the DDL and in unnest casts. */
  readonly type: 'uuid' | 'bigint' | 'timestamptz' | 'text' | 'jsonb';
  /** Whether the column refuses NULL. */
  readonly notNull: boolean;
}

/** The columns, in the order rows are built and COPY'd. */
export const COLUMNS: readonly ColumnSpec[] = [
  { name: 'id', type: 'uuid', notNull: true },
  { name: 'seq', type: 'bigint', notNull: true },
  { name: 'timestamp', type: 'timestamptz', notNull: true },
  { name: 'action_type', type: 'text', notNull: true },
  { name: 'status', type: 'text', notNull: true },
  { name: 'details', type: 'jsonb', notNull: true },
  { name: 'error', type: 'text', notNull: false },
  { name: 'actor', type: 'text', notNull: false },
  { name: 'source', type: 'jsonb', notNull: true },
  { name: 'experiment', type: 'text', notNull: false },
  { name: 'log_id', type: 'text', notNull: false },
  { name: 'prev_hash', type: 'text', notNull: false },
  { name: 'hash', type: 'text', notNull: false },
  { name: 'raw_event', type: 'text', notNull: false },
];

/** The column list as SQL: `"id", "seq", ...`. */
export const COLUMN_LIST = COLUMNS.map((c) => quoteIdentifier(c.name)).join(', ');

/** Where the sink writes. */
export interface TableRef {
  /** Table name (validated). */
  readonly table: string;
  /** Schema name (validated), or undefined for the search_path. */
  readonly schema: string | undefined;
}

/** One step of the migration: the object it creates and the statement that does it. */
export interface DdlStep {
  /** What the step creates. */
  readonly kind: 'schema' | 'table' | 'index';
  /** The object's name (unquoted; indexes live in the table's schema). */
  readonly name: string;
  /** The statement. */
  readonly sql: string;
}

/** The steps that create the schema, the table and its indexes, in order. */
export function ddlSteps({ table, schema }: TableRef): DdlStep[] {
  const target = qualifiedName(table, schema);
  const columns = COLUMNS.map((c) => {
    const constraint = c.name === 'id' ? ' PRIMARY KEY' : c.notNull ? ' NOT NULL' : '';
    return `  ${quoteIdentifier(c.name).padEnd(14)}${c.type}${constraint}`;
  });
  const index = (suffix: string, on: string): DdlStep => {
    const name = indexName(table, suffix);
    return { kind: 'index', name, sql: `CREATE INDEX IF NOT EXISTS ${quoteIdentifier(name)} ON ${target} (${on})` };
  };
  return [
    ...(schema === undefined ? [] : [{ kind: 'schema', name: schema, sql: `CREATE SCHEMA IF NOT EXISTS ${quoteIdentifier(schema)}` } as const]),
    { kind: 'table', name: table, sql: `CREATE TABLE IF NOT EXISTS ${target} (\n${columns.join(',\n')}\n)` },
    index('timestamp_idx', '"timestamp"'),
    index('action_type_idx', '"action_type"'),
    index('experiment_idx', '"experiment"'),
    index('log_seq_idx', '"log_id", "seq"'),
  ];
}

/** The DDL as one SQL script (what the docs show, and what a DBA can run by hand). */
export function ddlScript(ref: TableRef): string {
  return ddlSteps(ref)
    .map((step) => step.sql + ';\n')
    .join('');
}

/**
 * Creates whatever is missing of the schema, table and indexes, in one transaction under an
 * advisory lock on the table's name: processes starting together do not race on
 * `CREATE ... IF NOT EXISTS` (which can fail on a duplicate pg_type row), and a role that
 * may only insert into an existing table runs no DDL at all (Postgres checks the CREATE
 * privilege before it looks whether the object exists).
 */
export async function migrate(client: ClientBase, ref: TableRef): Promise<void> {
  await client.query('BEGIN');
  try {
    await client.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`auditrail:${qualifiedName(ref.table, ref.schema)}`]);
    for (const step of ddlSteps(ref)) {
      if (!(await exists(client, step, ref))) await client.query(step.sql);
    }
    await client.query('COMMIT');
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  }
}

async function exists(client: ClientBase, step: DdlStep, ref: TableRef): Promise<boolean> {
  const table = qualifiedName(ref.table, ref.schema);
  let sql: string;
  let params: string[];
  if (step.kind === 'schema') {
    sql = 'SELECT 1 FROM pg_namespace WHERE nspname = $1';
    params = [step.name];
  } else if (step.kind === 'table') {
    sql = 'SELECT 1 WHERE to_regclass($1) IS NOT NULL';
    params = [table];
  } else {
    // The index in the schema the table resolved to (search_path may hold several).
    sql = `SELECT 1 FROM pg_class t JOIN pg_index x ON x.indrelid = t.oid JOIN pg_class i ON i.oid = x.indexrelid
           WHERE t.oid = to_regclass($1) AND i.relname = $2`;
    params = [table, step.name];
  }
  const result = await client.query(sql, params);
  return (result.rowCount ?? 0) > 0;
}
