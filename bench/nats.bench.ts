// Issue 6: events/s from a producer's journal through NATS JetStream and a collector into Postgres,
// against the Postgres sink alone delivering the same backlog, in the same run.
import { randomBytes } from 'node:crypto';
import { connect, type NatsConnection } from 'nats';
import { Client } from 'pg';
import { Collector, NatsSink } from '@auditrail/nats';
import { POSTGRES_DELIVERY, postgresDdl, PostgresSink, quoteIdentifier } from '@auditrail/postgres';
import { backlogJournal, deliverBacklog, pgSettings } from './remote-common';
import { BenchUnavailable, fmt, interleaved, progress, removeDir, row, secondsSince, type BenchScenario } from './lib';

const EVENTS = 20_000;
const URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const ALONE = 'PostgresSink alone (reference)';
const PIPELINE = 'NatsSink → JetStream → collector → PostgresSink';
const PUBLISH = 'NatsSink into JetStream only';

interface Names {
  stream: string;
  prefix: string;
  table: string;
}

function names(): Names {
  const tag = randomBytes(4).toString('hex');
  return { stream: `BENCH_${tag}`, prefix: `bench_${tag}`, table: `bench_nats_${tag}` };
}

async function cleanup(nc: NatsConnection, admin: Client, n: Names): Promise<void> {
  await (await nc.jetstreamManager()).streams.delete(n.stream).catch(() => undefined);
  await admin.query(`DROP TABLE IF EXISTS ${quoteIdentifier(n.table)}`);
}

/** Starts a collector into a fresh table, publishes the backlog, and times until every row is in. */
async function pipelineRound(nc: NatsConnection, admin: Client, dir: string): Promise<number> {
  const n = names();
  await admin.query(postgresDdl({ table: n.table, schema: undefined }));
  const sink = new NatsSink({ servers: URL, subjectPrefix: n.prefix, stream: { name: n.stream } });
  try {
    const start = process.hrtime.bigint();
    const published = deliverBacklog(dir, EVENTS, sink);
    await waitForStream(nc, n.stream);
    const collector = new Collector({ servers: URL, stream: n.stream, durable: 'bench', batchSize: 1000, target: new PostgresSink({ client: pgSettings(), table: n.table, migrate: false }) });
    await collector.start();
    await published;
    while (collector.stats.written < EVENTS) await new Promise((r) => setTimeout(r, 20));
    const seconds = secondsSince(start);
    await collector.stop();
    return EVENTS / seconds;
  } finally {
    await cleanup(nc, admin, n);
  }
}

async function waitForStream(nc: NatsConnection, stream: string): Promise<void> {
  const jsm = await nc.jetstreamManager();
  for (;;) {
    if (await jsm.streams.info(stream).then(() => true, () => false)) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

async function publishRound(nc: NatsConnection, admin: Client, dir: string): Promise<number> {
  const n = names();
  try {
    return await deliverBacklog(dir, EVENTS, new NatsSink({ servers: URL, subjectPrefix: n.prefix, stream: { name: n.stream } }));
  } finally {
    await cleanup(nc, admin, n);
  }
}

async function aloneRound(admin: Client, dir: string): Promise<number> {
  const n = names();
  await admin.query(postgresDdl({ table: n.table, schema: undefined }));
  try {
    return await deliverBacklog(dir, EVENTS, new PostgresSink({ client: pgSettings(), table: n.table, migrate: false }));
  } finally {
    await admin.query(`DROP TABLE IF EXISTS ${quoteIdentifier(n.table)}`);
  }
}

const scenario: BenchScenario = async () => {
  let nc: NatsConnection;
  try {
    nc = await connect({ servers: URL, timeout: 3000 });
  } catch (err) {
    throw new BenchUnavailable(`NATS at ${URL} is not reachable: ${(err as Error).message}`);
  }
  const admin = new Client({ ...pgSettings(), connectionTimeoutMillis: 5000 });
  admin.on('error', () => undefined);
  try {
    await admin.connect();
  } catch (err) {
    await nc.close();
    throw new BenchUnavailable(`PostgreSQL is not reachable: ${(err as Error).message}`);
  }
  progress(`a ${fmt(EVENTS)}-event backlog through JetStream and a collector into Postgres, against the Postgres sink alone`);
  const { dir } = await backlogJournal(EVENTS);
  try {
    const rows = await interleaved(
      [
        { name: ALONE, note: `the backlog delivered straight to Postgres (batches of ${POSTGRES_DELIVERY.maxBatchSize})`, round: () => aloneRound(admin, dir) },
        { name: PIPELINE, note: 'from the first publish until the collector has written the last row (collector batches of 1,000, one durable consumer)', round: () => pipelineRound(nc, admin, dir) },
        { name: PUBLISH, note: 'publish with acknowledgements, message id = event id, 64 in flight', round: () => publishRound(nc, admin, dir) },
      ],
      3,
    );
    return [
      {
        title: 'Across machines: NATS JetStream and the collector',
        reference: ALONE,
        rows,
        notes: [
          `Producer, NATS server, collector and Postgres share this machine's two cores, so the pipeline row is a floor for a real deployment where they do not. In this run it reached ${(row(rows, PIPELINE).opsPerSec / row(rows, ALONE).opsPerSec).toFixed(2)}× the direct sink.`,
          'Each round uses a fresh stream and table, both removed afterwards; the JetStream stream stores to file, one replica.',
        ],
      },
    ];
  } finally {
    removeDir(dir);
    await admin.end();
    await nc.close();
  }
};
export default scenario;
