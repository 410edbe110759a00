// HttpSink against a real HTTP server on 127.0.0.1: failures, retries, timeouts, refusals, gzip, every event delivered.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, MAX_TIMER_MS, type AuditBusEvents, type AuditEvent, type DeadLetter, type DeliveryPolicy } from '@auditrail/core';
import { HttpSink, type HttpSinkOptions } from '@auditrail/http';
import { runTs, spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { TestServer } from './server';

const fast: Partial<DeliveryPolicy> = { maxBatchDelayMs: 5, initialBackoffMs: 5, maxBackoffMs: 50 };

describe('HttpSink delivery against a real server', () => {
  let server: TestServer;
  const loggers: AuditLogger[] = [];
  beforeEach(async () => {
    server = await new TestServer().start(0);
  });
  afterEach(async () => {
    await Promise.all(loggers.splice(0).map((l) => l.close({ timeoutMs: 100 })));
    await server.stop();
  });

  function open(options: Partial<HttpSinkOptions> = {}, dir = tempDir()): { logger: AuditLogger; sink: HttpSink; dir: string } {
    const sink = new HttpSink({ url: server.url(), ...options, delivery: { ...fast, ...options.delivery } });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', sinks: [sink] });
    loggers.push(logger);
    return { logger, sink, dir };
  }

  async function logMany(logger: AuditLogger, n: number, action = 'step'): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (let i = 0; i < n; i++) events.push(await logger.logEvent(action, { i }));
    return events;
  }

  it('retries 500s until the server accepts, with the same idempotency key for the same batch', async () => {
    server.answer = (_r, n) => (n <= 2 ? { status: 500, body: 'database is restarting' } : { status: 200 });
    const { logger } = open({ delivery: { maxBatchSize: 100 } });
    const retries: AuditBusEvents['retry'][] = [];
    logger.on('retry', (r) => retries.push(r));
    const events = await logMany(logger, 10);
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http).to.include({ done: true, delivered: 10 });
    expect(server.requests).to.have.length(3);
    expect(retries.map((r) => r.error.message)).to.deep.equal([1, 2].map(() => `POST ${server.url()} answered 500: database is restarting`));
    const keys = new Set(server.requests.map((r) => r.headers['idempotency-key']));
    expect(keys.size).to.equal(1);
    expect([...keys][0]).to.match(/^auditrail-[0-9a-f]{32}$/);
    expect(server.jsonEvents().slice(-10).map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
    expect(logger.stats().http).to.include({ delivered: 10, retried: 2, failed: 2, deadLettered: 0 });
  });

  it('honours 429 with Retry-After (seconds) before trying again', async () => {
    server.answer = (_r, n) => (n === 1 ? { status: 429, headers: { 'retry-after': '1' }, body: 'slow down' } : { status: 200 });
    const { logger } = open();
    const retries: AuditBusEvents['retry'][] = [];
    logger.on('retry', (r) => retries.push(r));
    await logMany(logger, 3);
    await logger.flush({ timeoutMs: 10_000 });
    expect(retries).to.have.length(1);
    expect(retries[0]!.delayMs).to.be.at.least(1000);
    expect(server.requests).to.have.length(2);
  });

  it('times out an endpoint that hangs, then retries and delivers', async () => {
    server.answer = (_r, n) => (n === 1 ? 'hang' : { status: 200 });
    const { logger } = open({ timeoutMs: 200 });
    const retries: AuditBusEvents['retry'][] = [];
    logger.on('retry', (r) => retries.push(r));
    const events = await logMany(logger, 5);
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http!.done).to.equal(true);
    expect(retries[0]!.error.message).to.match(/timeout|ECONNABORTED|ETIMEDOUT/i);
    expect(server.jsonEvents().slice(-5).map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
  });

  it('with timeoutMs at MAX_TIMER_MS, sends each batch once: no timer overflows and fires at once', async () => {
    const { logger, sink } = open({ timeoutMs: MAX_TIMER_MS, delivery: { maxBatchSize: 100 } });
    expect(sink.delivery.exportTimeoutMs).to.equal(MAX_TIMER_MS);
    await logMany(logger, 5);
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http).to.include({ done: true, delivered: 5 });
    expect(logger.stats().http).to.include({ retried: 0, failed: 0 });
    expect(server.requests).to.have.length(1);
  });

  it('keeps events while the connection is refused, and delivers them once the server is back', async () => {
    const port = server.port;
    await server.stop();
    const { logger } = open();
    const events = await logMany(logger, 20);
    while (logger.stats().http!.failed === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    const during = await logger.flush({ timeoutMs: 50 });
    expect(during.ok).to.equal(false);
    expect(during.sinks.http!.lastError).to.include('ECONNREFUSED');
    expect(during.sinks.http!.pending).to.equal(20);
    await server.start(port);
    const after = await logger.flush({ timeoutMs: 10_000 });
    expect(after.sinks.http).to.include({ done: true, pending: 0 });
    expect(logger.stats().http!.delivered).to.equal(20);
    expect(server.jsonEvents().map((e) => e.id)).to.deep.equal(events.map((e) => e.id));
  });

  it('dead-letters a batch the server refuses with 400, without retrying it', async () => {
    server.answer = () => ({ status: 400, body: '{"error":"field details.i must be a string"}' });
    const { logger, dir } = open({ delivery: { maxBatchSize: 100 } });
    const letters: AuditBusEvents['dead_letter'][] = [];
    logger.on('dead_letter', (d) => letters.push(d));
    const events = await logMany(logger, 4);
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http).to.include({ done: true, delivered: 0, deadLettered: 4 });
    expect(server.requests).to.have.length(1);
    expect(letters).to.have.length(1);
    expect(letters[0]!.reason).to.include('answered 400').and.include('must be a string');
    const path = join(dir, 'dead_letter.jsonl');
    expect(existsSync(path)).to.equal(true);
    const dead = readFileSync(path, 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as DeadLetter);
    expect(dead.map((d) => d.event!.id)).to.deep.equal(events.map((e) => e.id));
    expect(dead.every((d) => d.sink === 'http' && d.reason.includes('400'))).to.equal(true);
  });

  it('splits a batch the server finds too large (413) until each part fits, dead-lettering only an event too large alone', async () => {
    const limit = 1500; // bytes: two or three of these events
    server.answer = (request) => (request.body.length > limit ? { status: 413, body: '{"error":"payload too large"}' } : { status: 200, body: '{}' });
    const { logger, dir } = open({ delivery: { maxBatchSize: 100, maxBatchDelayMs: 50 } });
    const small = await logMany(logger, 6);
    const huge = await logger.logEvent('step', { pad: 'p'.repeat(4000) });
    small.push(...(await logMany(logger, 5)));
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http).to.include({ done: true, delivered: 11, deadLettered: 1 });
    const accepted = server.requests.filter((r) => r.status === 200);
    expect(accepted.every((r) => r.body.length <= limit)).to.equal(true);
    const ids = accepted.flatMap((r) => (JSON.parse(r.body.toString()) as AuditEvent[]).map((e) => e.id));
    expect([...ids].sort()).to.deep.equal(small.map((e) => e.id).sort());
    const dead = readFileSync(join(dir, 'dead_letter.jsonl'), 'utf8').trimEnd().split('\n').map((l) => JSON.parse(l) as DeadLetter);
    expect(dead.map((d) => d.event!.id)).to.deep.equal([huge.id]);
    expect(dead[0]!.reason).to.include('413');
  });

  it('retries a 401 listed in retryStatuses (a token being rotated) instead of dead-lettering it', async () => {
    server.answer = (_r, n) => (n <= 2 ? { status: 401, body: 'token expired' } : { status: 200 });
    const { logger } = open({ retryStatuses: [401, 403] });
    await logMany(logger, 3);
    const result = await logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http).to.include({ done: true, pending: 0 });
    expect(logger.stats().http).to.include({ delivered: 3, retried: 2, deadLettered: 0 });
  });

  it('sends gzip bodies that the server decodes to the same events', async () => {
    const { logger } = open({ gzip: true, delivery: { maxBatchSize: 1000 } });
    const events = [];
    for (let i = 0; i < 200; i++) events.push(await logger.logEvent('tag_add', { tag_name: 'defect', samples: Array.from({ length: 20 }, (_, k) => k) }));
    await logger.flush({ timeoutMs: 10_000 });
    expect(server.requests.every((r) => r.headers['content-encoding'] === 'gzip')).to.equal(true);
    expect(server.requests.reduce((n, r) => n + r.wireBytes, 0)).to.be.below(server.requests.reduce((n, r) => n + r.body.length, 0) / 3);
    expect(server.jsonEvents()).to.deep.equal(JSON.parse(JSON.stringify(events)));
  });

  it('through random 500s, 503s, resets and hangs, every event arrives and deduplicating by id gives exactly the logged set', async () => {
    let seed = 42;
    const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    server.answer = () => {
      const r = random();
      if (r < 0.15) return { status: 500 };
      if (r < 0.25) return { status: 503, headers: { 'retry-after': '0' } };
      if (r < 0.3) return 'reset';
      if (r < 0.33) return 'hang';
      return { status: 200 };
    };
    const { logger } = open({ timeoutMs: 150, delivery: { maxBatchSize: 50, concurrency: 3 } });
    const events = await logMany(logger, 1000);
    const result = await logger.flush({ timeoutMs: 50_000 });
    expect(result.ok).to.equal(true);
    const received = server.jsonEvents();
    const ids = new Set(received.map((e) => e.id));
    expect(ids.size).to.equal(1000);
    expect([...ids].sort()).to.deep.equal(events.map((e) => e.id).sort());
    expect(received.length).to.be.at.least(1000);
  });

  it('a logger closed mid-outage resumes from its cursor when reopened and delivers the rest', async () => {
    const dir = tempDir();
    server.answer = () => ({ status: 200 });
    const first = open({}, dir);
    const before = await logMany(first.logger, 10);
    await first.logger.flush({ timeoutMs: 10_000 });
    server.answer = () => ({ status: 503 });
    const during = await logMany(first.logger, 25);
    const closed = await first.logger.close({ timeoutMs: 200 });
    expect(closed.sinks.http).to.include({ done: false, pending: 25 });
    loggers.length = 0;

    expect(new Set(server.jsonEvents(true).map((e) => e.id))).to.deep.equal(new Set(before.map((e) => e.id)));

    server.answer = () => ({ status: 200 });
    const second = open({}, dir);
    const after = await logMany(second.logger, 5, 'after');
    const result = await second.logger.flush({ timeoutMs: 10_000 });
    expect(result.sinks.http!.done).to.equal(true);
    // A request the closing logger aborted may still reach the server and be answered 200 (at-least-once):
    // every event is accepted, in order of first acceptance.
    const accepted = [...new Set(server.jsonEvents(true).map((e) => e.id))];
    expect(accepted).to.deep.equal([...before, ...during, ...after].map((e) => e.id));
  });

  it('shuts down its keep-alive connections on close', async () => {
    const { logger } = open();
    await logMany(logger, 3);
    await logger.close();
    loggers.length = 0;
    expect(logger.stats().http).to.include({ delivered: 3, state: 'closed' });
  });

  it('a process killed with SIGKILL mid-delivery is resumed by the next one from its cursor: every event arrives', async function () {
    this.timeout(60_000);
    const dir = tempDir();
    server.answer = () => ({ status: 200 });
    const child = spawnTs(join(__dirname, 'crash-child.fixture.ts'), [dir, server.url(), '4000']);
    await new Promise<void>((resolve, reject) => {
      const check = setInterval(() => {
        if (server.jsonEvents(true).length >= 1000) {
          clearInterval(check);
          resolve();
        }
      }, 5);
      child.once('exit', (code) => {
        clearInterval(check);
        reject(new Error(`the child finished before it was killed (${code})`));
      });
    });
    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const journal = readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').trimEnd().split('\n').map((l) => (JSON.parse(l) as AuditEvent).id);
    const received = new Set(server.jsonEvents(true).map((e) => e.id));
    expect(journal.some((id) => !received.has(id)), 'the kill left events undelivered').to.equal(true);

    const rerun = await runTs(join(__dirname, 'crash-child.fixture.ts'), [dir, server.url(), '0']);
    expect(rerun.stdout.trim(), rerun.stderr).to.equal('done');
    const after = new Set(server.jsonEvents(true).map((e) => e.id));
    for (const id of journal) expect(after.has(id), `event ${id}`).to.equal(true);
    expect(after.size).to.equal(journal.length);
  });
});
