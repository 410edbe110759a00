// Issue 6 end to end: producer processes → NATS JetStream → `auditrail collect` processes → Postgres,
// with collectors killed and the NATS server restarted along the way.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { connect } from 'nats';
import { Client } from 'pg';
import { verifyPostgresTable } from '@auditrail/postgres';
import { runTs, spawnTs } from './helpers/node';
import { tempDir } from './helpers/tmp';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const PG_URL = `postgres://${process.env.PGUSER ?? 'postgres'}@${process.env.PGHOST ?? '127.0.0.1'}:${process.env.PGPORT ?? '5432'}/${process.env.PGDATABASE ?? 'test'}`;
const BIN = join(__dirname, '..', 'packages', 'cli', 'dist', 'bin.js');
const PRODUCER = join(__dirname, 'fixtures', 'nats-producer.ts');
const NATS_SERVER = '/usr/sbin/nats-server';

function collect(stream: string, table: string, url = NATS_URL): ChildProcess {
  return spawn(process.execPath, [BIN, 'collect', '--nats', url, '--stream', stream, '--durable', 'e2e', '--to', PG_URL, '--table', table, '--batch', '200'], { stdio: ['ignore', 'pipe', 'pipe'] });
}

async function rowCounts(pg: Client, table: string): Promise<{ rows: number; ids: number; logs: number }> {
  const r = await pg.query<{ rows: string; ids: string; logs: string }>(`SELECT count(*) AS rows, count(DISTINCT id) AS ids, count(DISTINCT log_id) AS logs FROM "${table}"`).catch(() => ({ rows: [{ rows: '0', ids: '0', logs: '0' }] }));
  const row = r.rows[0]!;
  return { rows: Number(row.rows), ids: Number(row.ids), logs: Number(row.logs) };
}

async function until(check: () => Promise<boolean>, what: string, ms: number, everyMs = 250): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

async function stopGracefully(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  child.kill('SIGTERM');
  const [code] = (await once(child, 'exit')) as [number | null];
  return code;
}

async function natsInfo(stream: string): Promise<string> {
  const nc = await connect({ servers: NATS_URL, timeout: 2000 });
  try {
    const jsm = await nc.jetstreamManager();
    const s = await jsm.streams.info(stream);
    const c = await jsm.consumers.info(stream, 'e2e').catch(() => undefined);
    return `${s.state.messages} messages; consumer pending ${c?.num_pending}, ack pending ${c?.num_ack_pending}, redelivered ${c?.num_redelivered}`;
  } finally {
    await nc.close();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as { port: number }).port;
      server.close(() => resolve(port));
    });
    server.on('error', reject);
  });
}

describe('NATS JetStream end to end (auditrail collect)', function () {
  this.timeout(300_000);
  const pg = new Client({ connectionString: PG_URL });
  const cleanups: (() => Promise<unknown>)[] = [];
  const tag = (): string => randomBytes(4).toString('hex');

  before(async () => {
    await pg.connect();
    const nc = await connect({ servers: NATS_URL, timeout: 5000 }); // fails, not skips, when NATS is missing
    await nc.close();
  });
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
  });
  after(async () => {
    await pg.end();
  });

  function track(table: string, stream: string, url = NATS_URL): void {
    cleanups.push(() => pg.query(`DROP TABLE IF EXISTS "${table}"`));
    cleanups.push(async () => {
      const nc = await connect({ servers: url, timeout: 2000 });
      await (await nc.jetstreamManager()).streams.delete(stream).catch(() => undefined);
      await nc.close();
    });
  }

  it('4 producers × 5,000 events through 2 collectors land in Postgres exactly once, every chain intact', async () => {
    const id = tag();
    const table = `e2e_nats_${id}`;
    const stream = `E2E_${id}`;
    track(table, stream);
    const producers = [0, 1, 2, 3].map((i) => runTs(PRODUCER, [tempDir(), '5000', NATS_URL, `e2e_${id}`, stream]));
    const results = await Promise.all(producers);
    for (const r of results) expect(r.code, r.stderr).to.equal(0);
    const collectors = [collect(stream, table), collect(stream, table)];
    cleanups.push(async () => Promise.all(collectors.map((c) => c.kill('SIGKILL'))));
    await until(async () => (await rowCounts(pg, table)).rows >= 20_000, '20,000 rows', 180_000).catch(async (err: Error) => {
      const info = await natsInfo(stream);
      throw new Error(`${err.message}; table ${JSON.stringify(await rowCounts(pg, table))}; stream ${info}`);
    });
    const codes = await Promise.all(collectors.map(stopGracefully));
    expect(codes).to.deep.equal([0, 0]);
    expect(await rowCounts(pg, table)).to.deep.equal({ rows: 20_000, ids: 20_000, logs: 4 });
    const report = await verifyPostgresTable({ connection: PG_URL, table });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs.map((l) => l.events)).to.deep.equal([5000, 5000, 5000, 5000]);
  });

  it('a collector killed with SIGKILL mid-stream and restarted loses and duplicates nothing', async () => {
    const id = tag();
    const table = `e2e_nats_kill_${id}`;
    const stream = `E2E_KILL_${id}`;
    track(table, stream);
    // A backlog large enough that the collector is still at work when it is killed, whatever the machine's speed.
    const produced = await runTs(PRODUCER, [tempDir(), '20000', NATS_URL, `e2e_${id}`, stream]);
    expect(produced.code, produced.stderr).to.equal(0);
    const first = collect(stream, table);
    cleanups.push(async () => first.kill('SIGKILL'));
    await until(async () => (await rowCounts(pg, table)).rows >= 1000, 'the first rows', 60_000, 10);
    first.kill('SIGKILL');
    await once(first, 'exit');
    const landed = (await rowCounts(pg, table)).rows;
    expect(landed).to.be.below(20000);
    const second = collect(stream, table);
    cleanups.push(async () => second.kill('SIGKILL'));
    await until(async () => (await rowCounts(pg, table)).rows >= 20000, 'all 20,000 rows', 180_000);
    expect(await stopGracefully(second)).to.equal(0);
    expect(await rowCounts(pg, table)).to.deep.equal({ rows: 20000, ids: 20000, logs: 1 });
    expect((await verifyPostgresTable({ connection: PG_URL, table })).ok).to.equal(true);
  });

  it('producers keep logging while the NATS server is down and deliver everything once it is back', async () => {
    const id = tag();
    const table = `e2e_nats_outage_${id}`;
    const stream = `E2E_OUT_${id}`;
    const port = await freePort();
    const url = `nats://127.0.0.1:${port}`;
    const store = tempDir();
    const startServer = async (): Promise<ChildProcess> => {
      const server = spawn(NATS_SERVER, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], { stdio: 'ignore' });
      await until(async () => connect({ servers: url, timeout: 500 }).then((c) => c.close().then(() => true), () => false), 'nats-server to accept', 20_000);
      return server;
    };
    let server = await startServer();
    cleanups.push(async () => server.kill('SIGKILL'));
    track(table, stream, url);
    const producer = spawnTs(PRODUCER, [tempDir(), '3000', url, `e2e_${id}`, stream, '100', '20']);
    let output = '';
    producer.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    let stderr = '';
    producer.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
    cleanups.push(async () => producer.kill('SIGKILL'));
    await until(async () => /logged 800\n/.test(output), '800 events logged', 60_000);
    server.kill('SIGTERM');
    await once(server, 'exit');
    const before = (output.match(/logged (\d+)\n/g) ?? []).length;
    await until(async () => (output.match(/logged (\d+)\n/g) ?? []).length >= before + 5, 'logging to go on while NATS is down', 60_000);
    server = await startServer();
    const [code] = (await once(producer, 'exit')) as [number | null];
    expect(code, stderr).to.equal(0);
    expect(output).to.include('done 3000 true');
    const collector = collect(stream, table, url);
    cleanups.push(async () => collector.kill('SIGKILL'));
    await until(async () => (await rowCounts(pg, table)).rows >= 3000, 'all 3,000 rows', 120_000);
    expect(await stopGracefully(collector)).to.equal(0);
    expect(await rowCounts(pg, table)).to.deep.equal({ rows: 3000, ids: 3000, logs: 1 });
    expect((await verifyPostgresTable({ connection: PG_URL, table })).ok).to.equal(true);
  });
});
