// Without a server: rows built from events (NUL, lone surrogates, exact copies, COPY text), names and DDL, error classification.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { actionProblem, InvalidOptionError, MAX_TIMER_MS, type AuditEvent } from '@auditrail/core';
import { checkIdentifier, classifyPostgresError, postgresDdl, PostgresSink, PostgresSinkError, quoteIdentifier, REPLACEMENT_CHAR, verifyPostgresTable, type PostgresSinkOptions, type VerifyTableOptions } from '@auditrail/postgres';
import pg, { type ClientBase } from 'pg';
import sinon from 'sinon';
import { copyText, eventToRow, UnstorableEventError } from '../src/rows';
import { COLUMNS } from '../src/schema';
import { indexName } from '../src/identifiers';

const column = (name: string) => COLUMNS.findIndex((c) => c.name === name);

function event(overrides: Partial<AuditEvent> = {}): AuditEvent {
  return {
    id: '019374f2-0000-7000-8000-000000000001',
    seq: 1,
    timestamp: '2026-05-27T14:30:05.456789Z',
    action_type: 'tag_add',
    status: 'INFO',
    details: { tag_name: 'defect', samples_affected: 5 },
    error: null,
    actor: 'alice',
    source: { experiment: 'exp-1', host: 'gpu-7', log: '019374f2-0000-7000-8000-0000000000aa', pid: 4242 },
    prev_hash: '0'.repeat(64),
    hash: 'a'.repeat(64),
    ...overrides,
  };
}

describe('postgres rows', () => {
  it('maps every field to its column, with experiment and log id lifted out of source', () => {
    const row = eventToRow(event());
    expect(row[column('id')]).to.equal('019374f2-0000-7000-8000-000000000001');
    expect(row[column('seq')]).to.equal('1');
    expect(row[column('details')]).to.equal('{"tag_name":"defect","samples_affected":5}');
    expect(row[column('error')]).to.equal(null);
    expect(row[column('experiment')]).to.equal('exp-1');
    expect(row[column('log_id')]).to.equal('019374f2-0000-7000-8000-0000000000aa');
    expect(row[column('raw_event')], 'nothing lost, no raw copy').to.equal(null);
  });

  it('replaces NUL (in values and keys) with U+FFFD and keeps the exact event in raw_event', () => {
    const e = event({ details: { 'k\u0000ey': 'a\u0000b' }, error: 'boom\u0000' });
    const row = eventToRow(e);
    expect(row[column('details')]).to.equal(`{"k${REPLACEMENT_CHAR}ey":"a${REPLACEMENT_CHAR}b"}`);
    expect(row[column('error')]).to.equal(`boom${REPLACEMENT_CHAR}`);
    expect(JSON.parse(row[column('raw_event')]!)).to.deep.equal(e);
    expect(row[column('raw_event')]).not.to.include('\u0000');
  });

  it('replaces lone surrogates but keeps surrogate pairs, and leaves an escaped backslash before u0000 alone', () => {
    const lone = eventToRow(event({ details: { s: 'x\ud800y' }, actor: '\udc00' }));
    expect(lone[column('details')]).to.equal(`{"s":"x${REPLACEMENT_CHAR}y"}`);
    expect(lone[column('actor')]).to.equal(REPLACEMENT_CHAR);
    expect(lone[column('raw_event')]).to.be.a('string');
    const fine = eventToRow(event({ details: { emoji: '😀', path: 'C:\\u0000dir' }, actor: '😀' }));
    expect(fine[column('details')]).to.equal('{"emoji":"😀","path":"C:\\\\u0000dir"}');
    expect(fine[column('raw_event')]).to.equal(null);
  });

  it('keeps the exact event when the columns could not give it back (unknown field, other timestamp precision)', () => {
    expect(eventToRow({ ...event(), extra: 1 } as AuditEvent)[column('raw_event')]).to.be.a('string');
    expect(eventToRow(event({ timestamp: '2026-05-27T14:30:05.456Z' }))[column('raw_event')]).to.be.a('string');
  });

  it('refuses events without a UUID id, an integer seq or an ISO timestamp', () => {
    expect(() => eventToRow(event({ id: 'nope' }))).to.throw(UnstorableEventError, /event nope cannot be stored: id "nope" is not a UUID/);
    expect(() => eventToRow(event({ seq: 1.5 }))).to.throw(UnstorableEventError, /seq/);
    expect(() => eventToRow(event({ timestamp: '2026-99-99T00:00:00.000000Z' }))).to.throw(UnstorableEventError, /timestamp/);
  });

  it('writes COPY text with tabs, newlines, carriage returns and backslashes escaped, and \\N for NULL', () => {
    const text = copyText([['a\tb', 'c\nd', 'e\rf', 'g\\h', null]]);
    expect(text).to.equal('a\\tb\tc\\nd\te\\rf\tg\\\\h\t\\N\n');
  });
});

describe('postgres identifiers', () => {
  it('accepts plain identifiers and quotes them, keeping case', () => {
    expect(checkIdentifier('table', 'Audit$Events_2')).to.equal('Audit$Events_2');
    expect(quoteIdentifier('Audit')).to.equal('"Audit"');
    expect(quoteIdentifier('a"b')).to.equal('"a""b"');
  });

  it('refuses injection attempts and odd names with an error naming the option', () => {
    const attempts = ['audit"; DROP TABLE users; --', "x' OR '1'='1", 'a b', 'public.audit', '1abc', '', 'événements', 'x'.repeat(64), 'a\u0000b'];
    for (const name of attempts) {
      expect(() => new PostgresSink({ table: name }), name).to.throw(InvalidOptionError, /Invalid option "table"/);
      expect(() => new PostgresSink({ table: 'ok', schema: name }), name).to.throw(InvalidOptionError, /Invalid option "schema"/);
    }
    expect(() => new PostgresSink({ table: 'public.audit' })).to.throw(/give the schema with the "schema" option/);
    expect(() => new PostgresSink({ table: 42 as unknown as string })).to.throw(/must be a non-empty string, got number/);
  });

  it('keeps index names within 63 bytes and distinct for long table names', () => {
    const a = indexName('t'.repeat(60) + 'aaa', 'experiment_idx');
    const b = indexName('t'.repeat(60) + 'bbb', 'experiment_idx');
    expect(a.length).to.be.at.most(63);
    expect(a).not.to.equal(b);
    expect(indexName('audit_events', 'timestamp_idx')).to.equal('audit_events_timestamp_idx');
  });

  it('documents its DDL: quoted names, primary key on id, jsonb details and source, four indexes', () => {
    const ddl = postgresDdl({ table: 'audit_events', schema: 'ml' });
    expect(ddl).to.include('CREATE SCHEMA IF NOT EXISTS "ml"');
    expect(ddl).to.match(/"id"\s+uuid PRIMARY KEY/);
    expect(ddl).to.match(/"details"\s+jsonb NOT NULL/);
    expect(ddl).to.match(/"timestamp"\s+timestamptz NOT NULL/);
    expect(ddl.match(/CREATE INDEX IF NOT EXISTS/g)).to.have.length(4);
    expect(new PostgresSink({ table: 'audit_events', schema: 'ml' }).ddl).to.equal(ddl);
  });

  it('is shown in docs/sinks/postgres.md exactly as it runs', () => {
    const doc = readFileSync(join(__dirname, '..', '..', '..', 'docs', 'sinks', 'postgres.md'), 'utf8');
    const block = /```sql\n(CREATE TABLE[\s\S]*?)```/.exec(doc);
    expect(block?.[1]).to.equal(postgresDdl({ table: 'audit_events', schema: undefined }));
  });

  it('fails fast on bad options, naming them', () => {
    expect(() => new PostgresSink({ migrate: 'yes' as unknown as boolean })).to.throw(/"migrate"/);
    expect(() => new PostgresSink({ statementTimeoutMs: -1 })).to.throw(/"statementTimeoutMs"/);
    expect(() => new PostgresSink({ pool: {} as never, connectionString: 'postgres://x' })).to.throw(/"pool"/);
    expect(new PostgresSink().name).to.equal('postgres');
    expect(new PostgresSink({ table: 't1', schema: 's' }).name).to.equal('postgres-s.t1');
  });
});

describe('postgres option checks', () => {
  it('refuses statementTimeoutMs and connectTimeoutMs a Node timer cannot hold (past MAX_TIMER_MS, 0, negative, not a number)', () => {
    for (const value of [3e9, MAX_TIMER_MS + 1, 0, -1, NaN, Infinity, '100' as unknown as number]) {
      expect(() => new PostgresSink({ statementTimeoutMs: value }), String(value)).to.throw(InvalidOptionError, '"statementTimeoutMs"');
      expect(() => new PostgresSink({ connectTimeoutMs: value }), String(value)).to.throw(InvalidOptionError, '"connectTimeoutMs"');
    }
  });

  it('caps the export timeout derived from connectTimeoutMs + statementTimeoutMs + 1 s at MAX_TIMER_MS', () => {
    expect(new PostgresSink().delivery.exportTimeoutMs).to.equal(21_000);
    expect(new PostgresSink({ statementTimeoutMs: 2_147_483_000 }).delivery.exportTimeoutMs).to.equal(MAX_TIMER_MS);
    expect(new PostgresSink({ statementTimeoutMs: MAX_TIMER_MS, connectTimeoutMs: MAX_TIMER_MS }).delivery.exportTimeoutMs).to.equal(MAX_TIMER_MS);
    expect(new PostgresSink({ statementTimeoutMs: 2_000, delivery: { exportTimeoutMs: 60_000 } }).delivery.exportTimeoutMs).to.equal(60_000);
  });

  it('refuses a maxConnections that is not a whole number of at least 1', () => {
    for (const value of [0, -1, 1.5, NaN, Infinity, '2' as unknown as number]) {
      expect(() => new PostgresSink({ maxConnections: value }), String(value)).to.throw(InvalidOptionError, '"maxConnections"');
    }
  });

  it('refuses a name with control characters, a connectionString that is not a string, client settings that are not an object', () => {
    expect(() => new PostgresSink({ name: 'pg\nFAKE LINE' })).to.throw(InvalidOptionError, '"name"');
    expect(() => new PostgresSink({ connectionString: 42 as unknown as string })).to.throw(InvalidOptionError, '"connectionString"');
    expect(() => new PostgresSink({ client: 'host=x' as never })).to.throw(InvalidOptionError, '"client"');
  });

  it('refuses exactly the control characters core refuses in an action name', () => {
    for (let code = 0; code <= 0xa0; code++) {
      const name = `pg${String.fromCharCode(code)}x`;
      const refused = (() => {
        try {
          new PostgresSink({ name });
          return false;
        } catch (err) {
          expect(err, `U+${code.toString(16)}`).to.be.instanceOf(InvalidOptionError).with.property('option', 'name');
          return true;
        }
      })();
      expect(refused, `U+${code.toString(16)}`).to.equal(actionProblem(name) !== undefined);
    }
  });

  it('refuses a misspelled option name, naming the option meant, before building a pool; other unknown names are left alone', async () => {
    const pools = sinon.spy(pg, 'Pool');
    try {
      const misspelled: [Record<string, unknown>, string, string][] = [
        [{ statementTimeout: 60_000 }, 'statementTimeout', 'statementTimeoutMs'], // would have left the 15 s default
        [{ connection_string: 'postgres://127.0.0.1:9/none' }, 'connection_string', 'connectionString'], // would have connected by PGHOST instead
        [{ maxConnection: 8 }, 'maxConnection', 'maxConnections'],
      ];
      for (const [options, name, meant] of misspelled) {
        expect(() => new PostgresSink({ table: 'audit_events', ...options } as PostgresSinkOptions), name).to.throw(
          InvalidOptionError,
          `Invalid option "${name}": is not an option; did you mean "${meant}"?`,
        );
      }
      // Checked first: a misspelling is named even next to an option that is bad in another way.
      expect(() => new PostgresSink({ statementTimeout: 60_000, maxConnections: 0 } as PostgresSinkOptions)).to.throw(InvalidOptionError, '"statementTimeout"');
      expect(pools.callCount, 'no pool built').to.equal(0);
      const sink = new PostgresSink({ table: 'audit_events', team: 'ml-platform' } as PostgresSinkOptions);
      expect(sink.name).to.equal('postgres');
      expect(pools.callCount).to.equal(1);
      await sink.shutdown();
    } finally {
      pools.restore();
    }
  });

  it('verifyPostgresTable refuses a misspelled option name before querying the client it was given; other unknown names are left alone', async () => {
    const queries: string[] = [];
    const client = {
      query: async (text: string | { text: string }) => {
        queries.push(typeof text === 'string' ? text : text.text);
        return { rows: [] };
      },
    } as unknown as ClientBase;
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ log_id: '019374f2-0000-7000-8000-0000000000aa' }, 'log_id', 'logId'], // would have verified every chain instead of that one
      [{ queryTimeout: 60_000 }, 'queryTimeout', 'queryTimeoutMs'],
    ];
    for (const [options, name, meant] of misspelled) {
      const error = await verifyPostgresTable({ connection: client, table: 'audit_events', ...options } as VerifyTableOptions).catch((err: unknown) => err);
      expect(error, name).to.be.instanceOf(InvalidOptionError);
      expect((error as Error).message).to.equal(`Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    expect(queries, 'nothing queried').to.deep.equal([]);
    const report = await verifyPostgresTable({ connection: client, table: 'audit_events', requestedBy: 'alice' } as VerifyTableOptions);
    expect(report.ok).to.equal(true);
    expect(queries).to.have.length.greaterThan(0);
  });

  it('verifyPostgresTable refuses a queryTimeoutMs outside 1 to MAX_TIMER_MS (0 meant no timeout) before connecting', async () => {
    for (const queryTimeoutMs of [0, -1, 3e9, NaN, '100' as unknown as number]) {
      const error = await verifyPostgresTable({ connection: 'postgres://127.0.0.1:9/none', table: 'audit_events', queryTimeoutMs }).then(
        () => undefined,
        (err: unknown) => err,
      );
      expect(error, String(queryTimeoutMs)).to.be.instanceOf(InvalidOptionError);
      expect((error as Error).message).to.include('"queryTimeoutMs"');
    }
    const bad = await verifyPostgresTable({ connection: 42 as never, table: 'audit_events' }).catch((err: unknown) => err);
    expect(bad).to.be.instanceOf(InvalidOptionError);
  });
});

describe('postgres error classification', () => {
  const pgError = (code: string) => Object.assign(new Error(`server said ${code}`), { code });

  it('retries what the server or the settings cause, and gives up on what the batch or the table shape causes', () => {
    const retryable = ['08006', '08001', '40001', '40P01', '53300', '53100', '55P03', '57P01', '57014', '58030', 'XX000', '25006', '28P01', '28000', '3D000', '42501', 'ZZ999'];
    const permanent = ['42703', '42601', '42804', '22P02', '22021', '23502', '23514', '0A000', 'P0001'];
    for (const code of retryable) expect(classifyPostgresError(pgError(code), false), code).to.equal('retryable');
    for (const code of permanent) expect(classifyPostgresError(pgError(code), false), code).to.equal('permanent');
    expect(classifyPostgresError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }), false)).to.equal('retryable');
    expect(classifyPostgresError(new Error('Connection terminated unexpectedly'), false)).to.equal('retryable');
  });

  it('retries a missing table or schema only when the sink may create it', () => {
    expect(classifyPostgresError(pgError('42P01'), true)).to.equal('retryable');
    expect(classifyPostgresError(pgError('42P01'), false)).to.equal('permanent');
    expect(classifyPostgresError(pgError('3F000'), false)).to.equal('permanent');
  });

  it('says in its message what failed, the SQLSTATE, whether the events are kept, and what to do', () => {
    const error = new PostgresSinkError('pg', 'cannot reach db:5432/audit as "bob"', pgError('28P01'), 'retryable');
    expect(error.message).to.equal('Sink "pg" failed: cannot reach db:5432/audit as "bob": server said 28P01 (SQLSTATE 28P01); the events are kept and retried (check the user and password)');
    expect(error).to.include({ sqlState: '28P01', kind: 'retryable', code: 'SINK_FAILED', sink: 'pg' });
  });

  it('names every error inside an AggregateError, and the code or name of an error without a message', () => {
    const refused = (address: string) => Object.assign(new Error(`connect ECONNREFUSED ${address}`), { code: 'ECONNREFUSED' });
    const both = new AggregateError([refused('::1:5432'), refused('127.0.0.1:5432')]);
    expect(new PostgresSinkError('pg', 'cannot reach localhost:5432', both, 'retryable').message).to.equal(
      'Sink "pg" failed: cannot reach localhost:5432: connect ECONNREFUSED ::1:5432; connect ECONNREFUSED 127.0.0.1:5432; the events are kept and retried',
    );
    expect(new PostgresSinkError('pg', 'x', Object.assign(new Error(''), { code: 'ETIMEDOUT' }), 'retryable').message).to.match(/: x: ETIMEDOUT;/);
    expect(new PostgresSinkError('pg', 'x', new TypeError(''), 'retryable').message).to.match(/: x: TypeError;/);
    expect(new PostgresSinkError('pg', 'x', 'socket hang up', 'retryable').message).to.match(/: x: socket hang up;/);
  });
});
