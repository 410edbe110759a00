// Helpers for tests against the real PostgreSQL: connection settings, unique tables dropped after, events to store.
import { randomBytes } from 'node:crypto';
import { AuditLogger, MemorySink, type AuditEvent, type AuditLoggerOptions } from '@auditrail/core';
import { quoteIdentifier, tableEvents } from '@auditrail/postgres';
import { Client, type ClientConfig } from 'pg';
import { tempDir } from '../../../test/helpers/tmp';

/** The test server: 127.0.0.1:5432, database `test`, unless PGHOST/PGPORT/PGUSER/PGDATABASE say otherwise. */
export function pgSettings(): { host: string; port: number; user: string; database: string } {
  return {
    host: process.env.PGHOST || '127.0.0.1',
    port: Number(process.env.PGPORT || 5432),
    user: process.env.PGUSER || 'postgres',
    database: process.env.PGDATABASE || 'test',
  };
}

/** Client settings for a sink, tagged with an application_name that finds its connections in pg_stat_activity. */
export function sinkClient(applicationName = uniqueName('app'), extra: ClientConfig = {}): ClientConfig {
  return { ...pgSettings(), application_name: applicationName, ...extra };
}

/** A name no other test (or concurrent run) uses: `{prefix}_{random hex}`. */
export function uniqueName(prefix: string): string {
  return `${prefix}_${randomBytes(5).toString('hex')}`;
}

/** A connected admin client, for assertions and for killing the sink's connections. */
export async function adminClient(): Promise<Client> {
  const client = new Client({ ...pgSettings(), application_name: 'auditrail-test-admin', connectionTimeoutMillis: 10_000 });
  client.on('error', () => undefined); // a dead admin connection shows in the next query's error
  await client.connect();
  return client;
}

/** Tables and schemas a test made, dropped in `dropAll` (schemas with CASCADE). */
export class Scratch {
  private readonly tables: string[] = [];
  private readonly schemas: string[] = [];

  /** A fresh table name, dropped later. */
  table(prefix = 'audit_t'): string {
    const name = uniqueName(prefix);
    this.tables.push(name);
    return name;
  }

  /** A fresh schema name, dropped later with everything in it. */
  schema(prefix = 'audit_s'): string {
    const name = uniqueName(prefix);
    this.schemas.push(name);
    return name;
  }

  /** Drops everything made. */
  async dropAll(admin: Client): Promise<void> {
    for (const t of this.tables.splice(0)) await admin.query(`DROP TABLE IF EXISTS ${quoteIdentifier(t)}`);
    for (const s of this.schemas.splice(0)) await admin.query(`DROP SCHEMA IF EXISTS ${quoteIdentifier(s)} CASCADE`);
  }
}

/** Terminates every backend of an application_name; resolves with how many there were. */
export async function terminate(admin: Client, applicationName: string): Promise<number> {
  const { rows } = await admin.query<{ n: string }>(
    'SELECT count(pg_terminate_backend(pid))::text AS n FROM pg_stat_activity WHERE application_name = $1 AND pid <> pg_backend_pid()',
    [applicationName],
  );
  return Number(rows[0]!.n);
}

/** `n` events logged by a real AuditLogger (JSONL journal in a temp dir), as its sinks received them. */
export async function loggedEvents(n: number, details: (i: number) => Record<string, unknown> = (i) => ({ i, lr: 0.001 * i, tags: ['a', 'b'] }), options: AuditLoggerOptions = {}): Promise<AuditEvent[]> {
  const memory = new MemorySink();
  const logger = new AuditLogger({ rootLogDir: tempDir('auditrail-pg-'), format: 'jsonl', experimentName: 'exp-pg', ...options, sinks: [memory] });
  for (let i = 0; i < n; i++) void logger.logEvent(i % 7 === 0 ? 'training_failed' : 'hp_change', details(i), i % 7 === 0 ? 'FAILURE' : 'INFO');
  await logger.close();
  return memory.events;
}

/** Every stored event of a table (all chains), exact, ordered by (log_id, seq, id). */
export async function stored(admin: Client, table: string, schema?: string): Promise<AuditEvent[]> {
  const target = schema === undefined ? quoteIdentifier(table) : `${quoteIdentifier(schema)}.${quoteIdentifier(table)}`;
  const { rows } = await admin.query<{ log_id: string | null }>(`SELECT DISTINCT log_id FROM ${target} ORDER BY log_id`);
  const events: AuditEvent[] = [];
  for (const { log_id } of rows) for await (const event of tableEvents(admin, target, log_id)) events.push(event);
  return events;
}

/** Row count and distinct id count of a table. */
export async function counts(admin: Client, table: string): Promise<{ rows: number; ids: number }> {
  const { rows } = await admin.query<{ rows: string; ids: string }>(`SELECT count(*)::text AS rows, count(DISTINCT id)::text AS ids FROM ${quoteIdentifier(table)}`);
  return { rows: Number(rows[0]!.rows), ids: Number(rows[0]!.ids) };
}

/** A signal that never aborts. */
export const never = new AbortController().signal;
