// Issue 3: PostgresSink events/s against raw COPY of the same rows (the floor), unnest and one INSERT per event;
// HttpSink events/s from the same journal into a local server; memory while the Postgres sink is down.
import { createServer } from 'node:http';
import { join } from 'node:path';
import { HttpSink } from '@auditrail/http';
import { POSTGRES_DELIVERY, postgresDdl, PostgresSink, quoteIdentifier } from '@auditrail/postgres';
import { Client } from 'pg';
import { copyFrom } from '../packages/postgres/src/copy-in';
import { columnArrays, copyText, eventToRow, type RowValues } from '../packages/postgres/src/rows';
import { COLUMN_LIST, COLUMNS } from '../packages/postgres/src/schema';
import { runTs } from '../test/helpers/node';
import { backlogJournal, deliverBacklog, pgSettings } from './remote-common';
import { benchDir, BenchUnavailable, fmt, interleaved, progress, removeDir, row, secondsSince, type BenchScenario, type BenchSection } from './lib';

const EVENTS = 50_000;
const BATCH = 512;
/** One INSERT per event is slow: it is timed over fewer events. */
const SINGLE_EVENTS = 2_000;
const FLOOR = 'raw COPY of the same rows (floor)';
const SINK = 'PostgresSink through the delivery engine';
const SINGLE = 'one INSERT per event';

let tableCount = 0;

/** A fresh table with the sink's DDL (its indexes included), dropped after `use`. */
async function withTable<T>(admin: Client, use: (table: string) => Promise<T>): Promise<T> {
  const table = `bench_remote_${process.pid}_${++tableCount}`;
  await admin.query(postgresDdl({ table, schema: undefined }));
  try {
    return await use(table);
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${quoteIdentifier(table)}`);
  }
}

async function postgres(admin: Client): Promise<BenchSection> {
  progress(`PostgresSink delivering a ${fmt(EVENTS)}-event backlog, against COPY, unnest and one INSERT per event`);
  const { dir, events } = await backlogJournal(EVENTS);
  const rows = events.map(eventToRow);
  const batches: RowValues[][] = [];
  for (let i = 0; i < rows.length; i += BATCH) batches.push(rows.slice(i, i + BATCH));
  const copyData = Buffer.from(copyText(rows));
  const unnest = (table: string) =>
    `INSERT INTO ${quoteIdentifier(table)} (${COLUMN_LIST}) SELECT * FROM unnest(${COLUMNS.map((c, i) => `$${i + 1}::${c.type}[]`).join(', ')}) ON CONFLICT ("id") DO NOTHING`;
  const single = (table: string) => `INSERT INTO ${quoteIdentifier(table)} (${COLUMN_LIST}) VALUES (${COLUMNS.map((c, i) => `$${i + 1}::${c.type}`).join(', ')}) ON CONFLICT ("id") DO NOTHING`;
  try {
    const measured = await interleaved(
      [
        {
          name: FLOOR,
          note: 'one COPY of every row, encoded beforehand: the server\'s own cost',
          round: () => withTable(admin, async (table) => {
            const start = process.hrtime.bigint();
            await copyFrom(admin, `COPY ${quoteIdentifier(table)} (${COLUMN_LIST}) FROM STDIN`, copyData);
            return EVENTS / secondsSince(start);
          }),
        },
        {
          name: SINK,
          note: `its defaults: batches of ${POSTGRES_DELIVERY.maxBatchSize}, ${POSTGRES_DELIVERY.concurrency} in flight; journal read and parsed, rows built, one COPY a batch`,
          round: () => withTable(admin, (table) => deliverBacklog(dir, EVENTS, new PostgresSink({ client: pgSettings(), table, migrate: false }))),
        },
        {
          name: `INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING, batches of ${BATCH}`,
          note: 'the sink\'s path for a replayed batch; arrays built beforehand',
          round: () => withTable(admin, async (table) => {
            const sql = unnest(table);
            const arrays = batches.map(columnArrays);
            const start = process.hrtime.bigint();
            for (const values of arrays) await admin.query({ text: sql, values });
            return EVENTS / secondsSince(start);
          }),
        },
        {
          name: SINGLE,
          note: `prepared statement, autocommit, over ${fmt(SINGLE_EVENTS)} events`,
          round: () => withTable(admin, async (table) => {
            const text = single(table);
            const start = process.hrtime.bigint();
            for (const values of rows.slice(0, SINGLE_EVENTS)) await admin.query({ name: `single_${table}`, text, values });
            return SINGLE_EVENTS / secondsSince(start);
          }),
        },
      ],
      3,
    );
    const ratio = row(measured, SINK).opsPerSec / row(measured, FLOOR).opsPerSec;
    const speedup = row(measured, SINK).opsPerSec / row(measured, SINGLE).opsPerSec;
    return {
      title: 'Postgres sink',
      reference: FLOOR,
      rows: measured,
      targets: [
        { description: 'PostgresSink at 0.6× the COPY floor or better', met: ratio >= 0.6, detail: `${ratio.toFixed(2)}×` },
        { description: 'PostgresSink at 20× one INSERT per event or better', met: speedup >= 20, detail: `${speedup.toFixed(1)}×` },
      ],
      notes: [
        `Every row goes into a fresh table with the sink's DDL: primary key on id and indexes on timestamp, action_type, experiment and (log_id, seq). Events are the local scenario's tag_add, ${fmt(EVENTS)} of them.`,
        `${SINK}: the sink joins a logger whose journal holds the backlog, and the round ends when flush() reports every event confirmed; it includes reading and parsing the journal and building the rows.`,
        'The sink COPYs each batch; a batch that meets rows already stored (a retry, a replay after a crash) goes through unnest with ON CONFLICT DO NOTHING until one is clean again.',
        `${SINGLE} commits each row, so it is bound by the server's commit (WAL flush) latency, and COPY by its CPU: in this run the floor itself is ${(row(measured, FLOOR).opsPerSec / row(measured, SINGLE).opsPerSec).toFixed(1)}× ${SINGLE}. The 20× target assumes a machine where that multiple is above 33 (the issue's reference: COPY 94,000/s, one INSERT 2,500/s).`,
      ],
    };
  } finally {
    removeDir(dir);
  }
}

async function http(): Promise<BenchSection> {
  progress('HttpSink delivering the same backlog into a local server');
  const server = createServer((req, res) => {
    req.on('data', () => undefined);
    req.on('end', () => res.end('{}'));
  });
  server.keepAliveTimeout = 60_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/ingest`;
  const { dir } = await backlogJournal(EVENTS);
  try {
    const rows = await interleaved([{ name: 'HttpSink, JSON array', note: `batches of ${BATCH}, keep-alive`, round: () => deliverBacklog(dir, EVENTS, new HttpSink({ url, delivery: { maxBatchSize: BATCH } })) }], 3);
    return {
      title: 'HTTP sink, same backlog',
      rows,
      notes: ['The HTTP server shares the process (see the HTTP scenario for presets, gzip and a raw axios floor).'],
    };
  } finally {
    removeDir(dir);
    await new Promise((resolve) => server.close(resolve));
  }
}

async function outageMemory(): Promise<BenchSection> {
  const total = 1_000_000;
  progress(`logging ${fmt(total)} events while the Postgres sink cannot connect (memory, in a child process)`);
  const dir = benchDir();
  // Port 9 (discard) has no listener on 127.0.0.1: every connection is refused.
  const { code, stdout, stderr } = await runTs(join(__dirname, '..', 'test', 'fixtures', 'e2e-outage-memory.ts'), [dir, String(total), '9']);
  removeDir(dir);
  if (code !== 0) throw new Error(`outage child failed: ${stderr}`);
  const report = JSON.parse(stdout.trim().split('\n').pop()!) as { growthBytes: number; eventsPerSec: number; lag: number; failed: number };
  const growthMb = report.growthBytes / 2 ** 20;
  return {
    title: 'Memory while the Postgres server is unreachable',
    rows: [{ name: `logEvent with the Postgres sink down, ${fmt(total)} events`, opsPerSec: report.eventsPerSec, note: `RSS growth ${growthMb.toFixed(1)} MiB after GC; lag ${fmt(report.lag)}, ${report.failed} failed attempts` }],
    targets: [{ description: 'RSS grows by less than 50 MB while 1,000,000 events are logged during an outage', met: report.growthBytes < 50e6, detail: `${growthMb.toFixed(1)} MiB` }],
    notes: ['Measured in a child process: RSS after a full GC, before and after the million events; the journal holds the backlog, the engine one batch.'],
  };
}

const scenario: BenchScenario = async () => {
  const admin = new Client({ ...pgSettings(), connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
  } catch (err) {
    throw new BenchUnavailable(`PostgreSQL at ${pgSettings().host}:${pgSettings().port} is not reachable: ${(err as Error).message}`);
  }
  try {
    const sections: BenchSection[] = [];
    for (const part of [() => postgres(admin), http, outageMemory]) {
      const start = process.hrtime.bigint();
      sections.push(await part());
      progress(`(${secondsSince(start).toFixed(0)} s)`);
    }
    return sections;
  } finally {
    await admin.end();
  }
};
export default scenario;
