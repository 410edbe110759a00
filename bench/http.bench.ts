// Issue 3: HttpSink events/s into a local server (a raw axios POST of the same bodies is the floor), and memory during an outage.
import axios from 'axios';
import { readFileSync } from 'node:fs';
import { Agent } from 'node:http';
import { Worker } from 'node:worker_threads';
import { AuditLogger, outcomeStatuses, type DeliveryPolicy } from '@auditrail/core';
import { HttpSink, type HttpSinkOptions } from '@auditrail/http';
import { nextTurn, tagAddDetails, YIELD_EVERY } from './common';
import { backlogJournal, deliverBacklog } from './remote-common';
import { benchDir, fmt, interleaved, progress, removeDir, row, secondsSince, type BenchScenario, type BenchSection } from './lib';

const EVENTS = 50_000;
const BATCH = 512;
const FLOOR = 'axios POST of the same JSON bodies (floor)';
const JSON_ROW = 'HttpSink, JSON array';

/** An HTTP server in a worker thread (so it does not share the client's event loop) that answers 200 to every POST. */
async function startServer(): Promise<{ url: string; stop: () => Promise<number> }> {
  const worker = new Worker(
    `const { parentPort } = require('node:worker_threads');
     const server = require('node:http').createServer((req, res) => { req.on('data', () => {}); req.on('end', () => res.end('{"errors":false,"items":[]}')); });
     server.keepAliveTimeout = 60000;
     server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`,
    { eval: true },
  );
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  return { url: `http://127.0.0.1:${port}`, stop: () => worker.terminate() };
}

/** Delivers a journal's backlog through an HttpSink; events/s from the sink joining to flush done. */
function sinkRound(source: string, options: Omit<HttpSinkOptions, 'url'>, url: string, delivery: Partial<DeliveryPolicy> = {}): Promise<number> {
  const sink = new HttpSink({ ...options, url: `${url}${options.preset ? '' : '/ingest'}`, delivery: { maxBatchSize: BATCH, ...delivery } });
  return deliverBacklog(source, EVENTS, sink);
}

/** The floor: the same events, pre-serialised in batches, POSTed with axios and keep-alive, one at a time. */
async function floorRound(bodies: readonly string[], url: string): Promise<number> {
  const client = axios.create({ httpAgent: new Agent({ keepAlive: true }), timeout: 10_000 });
  const start = process.hrtime.bigint();
  for (const body of bodies) await client.post(`${url}/ingest`, body, { headers: { 'content-type': 'application/json' } });
  return EVENTS / secondsSince(start);
}

async function throughput(): Promise<BenchSection> {
  progress(`HttpSink delivering a ${fmt(EVENTS)}-event backlog into a local server, against raw axios`);
  const server = await startServer();
  const { dir: source } = await backlogJournal(EVENTS);
  const events = readFileSync(`${source}/audit_log.jsonl`, 'utf8').trimEnd().split('\n');
  const bodies: string[] = [];
  for (let i = 0; i < events.length; i += BATCH) bodies.push(`[${events.slice(i, i + BATCH).join(',')}]`);
  try {
    const rows = await interleaved(
      [
        { name: FLOOR, note: `${BATCH} events a request, bodies built beforehand`, round: () => floorRound(bodies, server.url) },
        { name: JSON_ROW, round: () => sinkRound(source, {}, server.url) },
        { name: 'HttpSink, NDJSON', round: () => sinkRound(source, { format: 'ndjson' }, server.url) },
        { name: 'HttpSink, JSON array, gzip', round: () => sinkRound(source, { gzip: true }, server.url) },
        { name: 'HttpSink, JSON array, concurrency 4', round: () => sinkRound(source, {}, server.url, { concurrency: 4 }) },
        { name: 'HttpSink, OTLP/HTTP logs', round: () => sinkRound(source, { preset: 'otlp' }, server.url) },
        { name: 'HttpSink, Elasticsearch _bulk', round: () => sinkRound(source, { preset: 'elasticsearch' }, server.url) },
      ],
      3,
    );
    return {
      title: 'HTTP sink into a local server',
      reference: FLOOR,
      rows,
      notes: [
        `Each round delivers a journal of ${fmt(EVENTS)} tag_add events (the local scenario's event) from a fresh cursor: reading the journal, parsing each line, building the body and POSTing batches of ${BATCH}, until flush() reports every event confirmed. The server runs in a worker thread and answers 200 at once.`,
        `${FLOOR}: the same lines, joined into JSON arrays beforehand, POSTed one batch at a time with a keep-alive agent: the transport alone.`,
        `Rows differ only in the sink's options; the OTLP row builds one logRecord per event with typed attributes.`,
        `Row ${JSON_ROW} is ${(row(rows, JSON_ROW).opsPerSec / row(rows, FLOOR).opsPerSec).toFixed(2)}× the floor in this run.`,
      ],
    };
  } finally {
    removeDir(source);
    await server.stop();
  }
}

async function outageMemory(): Promise<BenchSection> {
  const total = 1_000_000;
  progress(`logging ${fmt(total)} events while the HTTP endpoint refuses connections (memory)`);
  const dir = benchDir();
  const sink = new HttpSink({ url: 'http://127.0.0.1:9/unreachable', delivery: { initialBackoffMs: 50, maxBackoffMs: 1000 } });
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', statuses: outcomeStatuses, sinks: [sink] });
  for (let i = 1; i <= 20_000; i++) {
    await logger.logEvent('tag_add', tagAddDetails(), 'success');
    if (i % YIELD_EVERY === 0) await nextTurn();
  }
  global.gc?.();
  const before = process.memoryUsage().rss;
  let peak = before;
  const start = process.hrtime.bigint();
  for (let i = 1; i <= total; i++) {
    await logger.logEvent('tag_add', tagAddDetails(), 'success');
    if (i % YIELD_EVERY === 0) {
      await nextTurn();
      if (i % 50_000 === 0) peak = Math.max(peak, process.memoryUsage().rss);
    }
  }
  const rate = total / secondsSince(start);
  global.gc?.();
  peak = Math.max(peak, process.memoryUsage().rss);
  const stats = logger.stats().http!;
  await logger.close({ timeoutMs: 0 });
  removeDir(dir);
  const growthMb = (peak - before) / 2 ** 20;
  return {
    title: 'Memory while the HTTP endpoint is down',
    rows: [{ name: `logEvent with the endpoint refusing, ${fmt(total)} events`, opsPerSec: rate, note: `peak RSS growth ${growthMb.toFixed(1)} MiB; lag ${fmt(stats.lag)}, ${stats.retried} retries` }],
    targets: [{ description: 'RSS grows by less than 50 MB while 1,000,000 events are logged during an outage', met: growthMb * 2 ** 20 < 50e6, detail: `${growthMb.toFixed(1)} MiB` }],
    notes: ['The journal holds the backlog: the engine keeps one batch in memory per sink, retried with capped backoff; RSS is sampled every 50,000 events.'],
  };
}

const scenario: BenchScenario = async () => [await throughput(), await outageMemory()];
export default scenario;
