// PostgresSink behind a real AuditLogger and delivery engine: normal delivery, killed connections, an unreachable
// server, bad credentials, a missing database, and 100,000 events; nothing lost, nothing twice.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, DEAD_LETTER_FILE, readEvents, type AuditEvent, type DeliveryPolicy } from '@auditrail/core';
import { PostgresSink } from '@auditrail/postgres';
import type { Client } from 'pg';
import { tempDir } from '../../../test/helpers/tmp';
import { adminClient, counts, pgSettings, Scratch, sinkClient, stored, terminate, uniqueName } from './helpers';
import { TcpProxy } from './tcp-proxy';

/** Quick retries, so that outages end in milliseconds rather than the default backoff. */
const FAST: Partial<DeliveryPolicy> = { initialBackoffMs: 20, maxBackoffMs: 200, maxBatchDelayMs: 20 };

async function journal(dir: string): Promise<AuditEvent[]> {
  const events: AuditEvent[] = [];
  for await (const event of readEvents(join(dir, 'audit_log.jsonl'))) events.push(event);
  return events;
}

describe('PostgresSink behind AuditLogger (real PostgreSQL)', function () {
  let admin: Client;
  const scratch = new Scratch();
  const loggers: AuditLogger[] = [];

  function logger(dir: string, sink: PostgresSink): AuditLogger {
    const made = new AuditLogger({ rootLogDir: dir, format: 'jsonl', experimentName: 'exp-pg', sinks: [sink], delivery: { policy: FAST } });
    loggers.push(made);
    return made;
  }

  before(async () => (admin = await adminClient()));
  afterEach(async () => {
    await Promise.all(loggers.splice(0).map((l) => l.close({ timeoutMs: 0 })));
    await scratch.dropAll(admin);
  });
  after(async () => admin.end());

  it('delivers every logged event; the rows equal the journal', async () => {
    const dir = tempDir();
    const table = scratch.table();
    const log = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(), table }));
    for (let i = 0; i < 2000; i++) await log.logEvent('hp_change', { param: 'lr', before: 0.01, after: 0.01 / (i + 1), note: 'tab\there, "quotes", \\ and\nnewline' });
    await log.logEvent({ action: 'training_failed', status: 'FAILURE', error: new Error('CUDA out of memory'), actor: 'alice', details: { step: 7 } });
    const result = await log.flush({ timeoutMs: 20_000 });
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(result.sinks.pg!.delivered).to.equal(2001);
    expect(await stored(admin, table)).to.deep.equal(await journal(dir));
  });

  it('loses and duplicates nothing while its connections are terminated mid-stream', async () => {
    const dir = tempDir();
    const table = scratch.table();
    const app = uniqueName('app');
    const log = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(app), table }));
    let killed = 0;
    let logging = true;
    const killer = (async () => {
      while (logging) {
        killed += await terminate(admin, app);
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
    })();
    for (let i = 0; i < 10_000; i++) {
      await log.logEvent('sample_discard', { sample: i });
      if (i % 500 === 0) await new Promise((resolve) => setImmediate(resolve)); // let delivery run between bursts
    }
    logging = false;
    await killer;
    const result = await log.flush({ timeoutMs: 30_000 });
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(killed, 'connections were actually terminated').to.be.greaterThan(0);
    expect(await counts(admin, table)).to.deep.equal({ rows: 10_000, ids: 10_000 });
    expect((await stored(admin, table)).map((e) => e.id)).to.deep.equal((await journal(dir)).map((e) => e.id));
    expect(existsSync(join(dir, DEAD_LETTER_FILE))).to.equal(false);
  });

  it('waits for a server unreachable at start, then delivers everything once it is reachable', async () => {
    const { host, port } = pgSettings();
    const proxy = new TcpProxy(host, port);
    await proxy.start();
    await proxy.stop(); // the port is now closed: connections are refused
    try {
      const dir = tempDir();
      const table = scratch.table();
      const log = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(undefined, { host: '127.0.0.1', port: proxy.port }), table, connectTimeoutMs: 2000 }));
      const errors: string[] = [];
      log.on('retry', ({ error }) => errors.push(error.message));
      for (let i = 0; i < 500; i++) await log.logEvent('hp_change', { i });
      const pending = await log.flush({ timeoutMs: 500 });
      expect(pending.ok).to.equal(false);
      expect(pending.sinks.pg!.pending).to.be.greaterThan(0);
      expect(errors[0]).to.match(/cannot reach 127\.0\.0\.1:\d+\/.*ECONNREFUSED.*kept and retried/);
      await proxy.start();
      const result = await log.flush({ timeoutMs: 20_000 });
      expect(result.ok, JSON.stringify(result)).to.equal(true);
      expect(await counts(admin, table)).to.deep.equal({ rows: 500, ids: 500 });
      expect(existsSync(join(dir, DEAD_LETTER_FILE))).to.equal(false);
    } finally {
      await proxy.stop();
    }
  });

  for (const [what, client, pattern] of [
    ['bad credentials', { user: 'auditrail_no_such_role' }, /role "auditrail_no_such_role" does not exist.*SQLSTATE 28000.*kept and retried.*check the user and password/],
    ['a missing database', { database: 'auditrail_no_such_db' }, /database "auditrail_no_such_db" does not exist.*SQLSTATE 3D000.*kept and retried/],
  ] as const) {
    it(`with ${what}: a clear error, nothing dead-lettered, and the events delivered once the settings are fixed`, async () => {
      const dir = tempDir();
      const table = scratch.table();
      const broken = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(undefined, client), table }));
      const errors: string[] = [];
      broken.on('retry', ({ error }) => errors.push(error.message));
      for (let i = 0; i < 300; i++) await broken.logEvent('hp_change', { i });
      const result = await broken.flush({ timeoutMs: 500 });
      expect(result.ok).to.equal(false);
      expect(result.sinks.pg!.lastError).to.match(pattern);
      expect(errors[0]).to.match(pattern);
      expect(result.sinks.pg!.deadLettered).to.equal(0);
      await broken.close({ timeoutMs: 0 });
      expect(existsSync(join(dir, DEAD_LETTER_FILE))).to.equal(false);
      // The same directory, the same sink name: its cursor says what is still to deliver.
      const fixed = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(), table }));
      const done = await fixed.flush({ timeoutMs: 20_000 });
      expect(done.ok, JSON.stringify(done)).to.equal(true);
      expect(await stored(admin, table)).to.deep.equal(await journal(dir));
    });
  }

  it('stores 100,000 events with none lost and none duplicated', async function () {
    this.timeout(120_000);
    const dir = tempDir();
    const table = scratch.table();
    const log = logger(dir, new PostgresSink({ name: 'pg', client: sinkClient(), table, delivery: { maxBatchSize: 2000 } }));
    for (let i = 0; i < 100_000; i++) void log.logEvent('sample_tag', { sample: i, tag: i % 3 === 0 ? 'defect' : 'ok' });
    const result = await log.flush({ timeoutMs: 100_000 });
    expect(result.ok, JSON.stringify(result)).to.equal(true);
    expect(await counts(admin, table)).to.deep.equal({ rows: 100_000, ids: 100_000 });
    const { rows } = await admin.query<{ n: string; min: string; max: string }>(`SELECT count(DISTINCT seq)::text AS n, min(seq)::text AS min, max(seq)::text AS max FROM "${table}"`);
    expect(rows[0]).to.deep.equal({ n: '100000', min: '1', max: '100000' });
  });
});
