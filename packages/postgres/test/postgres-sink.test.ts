// PostgresSink against the real server, through the BatchSink contract: idempotence, migration, failures and how each is classified.
import { expect } from 'chai';
import { computeHash, type AuditEvent, type ExportResult } from '@auditrail/core';
import { PostgresSink, PostgresSinkError, quoteIdentifier } from '@auditrail/postgres';
import { Pool, type Client } from 'pg';
import { adminClient, counts, loggedEvents, never, pgSettings, Scratch, sinkClient, stored } from './helpers';

/** The error of a failed export (fails the test on 'ok'). */
function errorOf(result: ExportResult): Error {
  if (result.code === 'ok') throw new Error('expected the export to fail');
  return result.error;
}

describe('PostgresSink (contract, real PostgreSQL)', function () {
  let admin: Client;
  const scratch = new Scratch();
  const sinks: PostgresSink[] = [];
  let events: AuditEvent[];

  function sink(options: ConstructorParameters<typeof PostgresSink>[0] = {}): PostgresSink {
    const made = new PostgresSink({ client: sinkClient(), ...options });
    sinks.push(made);
    return made;
  }

  before(async () => {
    admin = await adminClient();
    events = await loggedEvents(1200);
  });
  afterEach(async () => {
    await Promise.all(sinks.splice(0).map((s) => s.shutdown()));
    await scratch.dropAll(admin);
  });
  after(async () => admin.end());

  it('creates the table and stores each event exactly as logged', async () => {
    const table = scratch.table();
    const result = await sink({ table }).export(events.slice(0, 300), never);
    expect(result).to.deep.equal({ code: 'ok' });
    const rows = await stored(admin, table);
    expect(rows).to.deep.equal(events.slice(0, 300));
    for (const row of rows) expect(computeHash(row)).to.equal(row.hash);
    const { rows: indexes } = await admin.query<{ indexname: string }>('SELECT indexname FROM pg_indexes WHERE tablename = $1 ORDER BY 1', [table]);
    expect(indexes.map((r) => r.indexname)).to.have.members([`${table}_pkey`, `${table}_timestamp_idx`, `${table}_action_type_idx`, `${table}_experiment_idx`, `${table}_log_seq_idx`]);
  });

  it('keeps exactly one row per event however often batches are retried, whole or overlapping', async () => {
    const table = scratch.table();
    const s = sink({ table });
    for (const batch of [events.slice(0, 500), events.slice(0, 500), events.slice(250, 800), events.slice(700, 1200), events.slice(0, 1200)]) {
      expect(await s.export(batch, never)).to.deep.equal({ code: 'ok' });
    }
    expect(await counts(admin, table)).to.deep.equal({ rows: 1200, ids: 1200 });
    expect((await stored(admin, table)).map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
  });

  it('creates a schema when given one, and two sinks migrating at once both succeed', async () => {
    const schema = scratch.schema();
    const [a, b] = [sink({ table: 'audit_events', schema }), sink({ table: 'audit_events', schema })];
    const results = await Promise.all([a.export(events.slice(0, 100), never), b.export(events.slice(100, 200), never)]);
    expect(results).to.deep.equal([{ code: 'ok' }, { code: 'ok' }]);
    expect(await stored(admin, 'audit_events', schema)).to.deep.equal(events.slice(0, 200));
  });

  it('works with a pool it is given, and leaves that pool open on shutdown', async () => {
    const table = scratch.table();
    const pool = new Pool({ ...pgSettings(), max: 1 });
    pool.on('error', () => undefined);
    try {
      const s = new PostgresSink({ pool, table });
      expect(await s.export(events.slice(0, 10), never)).to.deep.equal({ code: 'ok' });
      await s.shutdown();
      expect((await pool.query('SELECT count(*)::int AS n FROM ' + quoteIdentifier(table))).rows[0].n).to.equal(10);
    } finally {
      await pool.end();
    }
  });

  it('with migrate: false, a missing table is a permanent failure that says what to do', async () => {
    const result = await sink({ table: scratch.table(), migrate: false }).export(events.slice(0, 5), never);
    expect(result.code).to.equal('permanent');
    const error = errorOf(result);
    expect(error).to.be.instanceOf(PostgresSinkError);
    if (!(error instanceof PostgresSinkError)) return;
    expect(error.sqlState).to.equal('42P01');
    expect(error.message).to.match(/does not exist.*SQLSTATE 42P01.*not retried.*migrate: true/);
  });

  it('a table lacking a column is a permanent failure (42703) naming the column', async () => {
    const table = scratch.table();
    await admin.query(`CREATE TABLE ${quoteIdentifier(table)} (id uuid PRIMARY KEY, seq bigint, "timestamp" timestamptz, action_type text, status text, details jsonb)`);
    const result = await sink({ table, migrate: false }).export(events.slice(0, 5), never);
    expect(result.code).to.equal('permanent');
    expect(errorOf(result).message).to.match(/column "error" .*does not exist.*42703/);
  });

  it('a table dropped while the sink runs is created again on the retry', async () => {
    const table = scratch.table();
    const s = sink({ table });
    expect(await s.export(events.slice(0, 10), never)).to.deep.equal({ code: 'ok' });
    await admin.query(`DROP TABLE ${quoteIdentifier(table)}`);
    const failed = await s.export(events.slice(10, 20), never);
    expect(failed.code).to.equal('retryable');
    expect(await s.export(events.slice(10, 20), never)).to.deep.equal({ code: 'ok' });
    expect(await counts(admin, table)).to.deep.equal({ rows: 10, ids: 10 });
  });

  it('stores the rest of a batch and rejects only the events Postgres refuses, each with its reason', async () => {
    const table = scratch.table();
    const s = sink({ table });
    await s.ensureTable();
    await admin.query(`ALTER TABLE ${quoteIdentifier(table)} ADD CONSTRAINT no_forbidden CHECK (action_type <> 'forbidden')`);
    const batch = events.slice(0, 40).map((e, i) => (i === 3 || i === 31 ? { ...e, action_type: 'forbidden' } : e));
    batch[17] = { ...batch[17]!, id: 'not-a-uuid' };
    const result = await s.export(batch, never);
    expect(result.code).to.equal('ok');
    const rejected = result.code === 'ok' ? (result.rejected ?? []) : [];
    expect(rejected.map((r) => r.index)).to.deep.equal([3, 17, 31]);
    expect(rejected[0]!.reason).to.match(/no_forbidden.*SQLSTATE 23514/);
    expect(rejected[1]!.reason).to.match(/not a UUID/);
    expect(await counts(admin, table)).to.deep.equal({ rows: 37, ids: 37 });
  });

  it('stops at the abort signal (a lock held elsewhere), reports retryable, and succeeds once the lock is gone', async () => {
    const table = scratch.table();
    const s = sink({ table });
    await s.ensureTable();
    await admin.query('BEGIN');
    await admin.query(`LOCK TABLE ${quoteIdentifier(table)} IN ACCESS EXCLUSIVE MODE`);
    try {
      const result = await s.export(events.slice(0, 10), AbortSignal.timeout(300));
      expect(result.code).to.equal('retryable');
      expect(errorOf(result).message).to.match(/timed out or was aborted.*kept and retried/);
    } finally {
      await admin.query('ROLLBACK');
    }
    expect(await s.export(events.slice(0, 10), never)).to.deep.equal({ code: 'ok' });
    expect(await counts(admin, table)).to.deep.equal({ rows: 10, ids: 10 });
  });

  it('ensureTable() creates the table up front, and fails fast with a typed error when the server cannot be reached', async () => {
    const table = scratch.table();
    await sink({ table }).ensureTable();
    expect((await admin.query('SELECT to_regclass($1) AS t', [`"${table}"`])).rows[0].t).to.equal(table);
    const unreachable = sink({ table, client: sinkClient(undefined, { host: '127.0.0.1', port: 9 }) });
    const error = await unreachable.ensureTable().then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(error).to.be.instanceOf(PostgresSinkError);
    expect((error as PostgresSinkError).message).to.match(/cannot reach 127\.0\.0\.1:9\/.*ECONNREFUSED/);
    expect((error as PostgresSinkError).kind).to.equal('retryable');
  });

  it('with statementTimeoutMs near MAX_TIMER_MS (its sum with connectTimeoutMs past it), writes instead of timing out at once', async () => {
    const table = scratch.table();
    const s = sink({ table, statementTimeoutMs: 2_147_483_000 });
    expect(await s.export(events.slice(0, 50), never)).to.deep.equal({ code: 'ok' });
    expect(await counts(admin, table)).to.deep.equal({ rows: 50, ids: 50 });
  });

  it('refuses to write after shutdown, as retryable (the events stay in the outbox)', async () => {
    const s = sink({ table: scratch.table() });
    await s.shutdown();
    await s.shutdown();
    expect((await s.export(events.slice(0, 1), never)).code).to.equal('retryable');
  });
});
