// NatsSink and Collector against the real NATS JetStream server on 127.0.0.1:4222.
import { expect } from 'chai';
import { AuditLogger, type AuditEvent, type BatchSink, type ExportResult } from '@auditrail/core';
import { ArchiveSink, Collector, NatsSink, subjectToken } from '@auditrail/nats';
import { appendFileSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../../../test/helpers/tmp';
import { jetStreamSuite, NATS_URL, until } from './helpers';

const URL = NATS_URL;

/** A batch sink that keeps what it receives and can be told to fail. */
class CollectingSink implements BatchSink {
  readonly name = 'collecting';
  readonly events: AuditEvent[] = [];
  failNext = 0;
  /** Actions whose events the target refuses one by one (reported in `rejected`). */
  refuse = new Set<string>();
  async export(batch: readonly AuditEvent[]): Promise<ExportResult> {
    if (this.failNext > 0) {
      this.failNext--;
      return { code: 'retryable', error: new Error('target down') };
    }
    const rejected = batch.flatMap((e, index) => (this.refuse.has(e.action_type) ? [{ index, reason: `refused ${e.action_type}` }] : []));
    this.events.push(...batch.filter((e) => !this.refuse.has(e.action_type)));
    return rejected.length > 0 ? { code: 'ok', rejected } : { code: 'ok' };
  }
}

describe('@auditrail/nats', () => {
  const suite = jetStreamSuite('T');
  const { names } = suite;

  it('makes subject tokens safe', () => {
    expect(subjectToken('Data Ingestion started')).to.equal('Data_Ingestion_started');
    expect(subjectToken('a.b*>')).to.equal('a_b__');
    expect(subjectToken('')).to.equal('_');
  });

  it('publishes each event once per id, even when a batch is published twice', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none', experimentName: 'exp.1' });
    const events = [await logger.logEvent('tag_add', { n: 1 }), await logger.logEvent('Drift detected', { n: 2 }, 'WARNING')];
    const signal = new AbortController().signal;
    expect((await sink.export(events, signal)).code).to.equal('ok');
    expect((await sink.export(events, signal)).code).to.equal('ok'); // a retried batch
    const info = await (await suite.nc.jetstreamManager()).streams.info(stream);
    expect(info.state.messages).to.equal(2);
    const stored = await (await suite.nc.jetstreamManager()).streams.getMessage(stream, { seq: 2 });
    expect(stored.subject).to.equal(`${prefix}.exp_1.Drift_detected`);
    expect(JSON.parse(stored.string()).id).to.equal(events[1]!.id);
    await sink.shutdown();
    await logger.close();
  });

  it('reports a closed port as retryable', async () => {
    const sink = new NatsSink({ servers: 'nats://127.0.0.1:1', connectTimeoutMs: 500 });
    const logger = new AuditLogger({ format: 'none' });
    const result = await sink.export([await logger.logEvent('x')], new AbortController().signal);
    expect(result.code).to.equal('retryable');
    await sink.shutdown();
    await logger.close();
  });

  it('collects into a batch sink, acknowledging only what the target confirmed', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    const logged: AuditEvent[] = [];
    for (let i = 0; i < 300; i++) logged.push(await logger.logEvent('step', { i }));
    expect((await sink.export(logged, new AbortController().signal)).code).to.equal('ok');
    const target = new CollectingSink();
    target.failNext = 2;
    const collector = new Collector({ servers: URL, stream, durable: 'c1', target, batchSize: 100 });
    await collector.start();
    await until(() => new Set(target.events.map((e) => e.id)).size === 300, 'all 300 events');
    await collector.stop();
    expect(collector.stats.retried).to.be.at.least(2);
    expect(new Set(target.events.map((e) => e.id))).to.deep.equal(new Set(logged.map((e) => e.id)));
    const consumer = await (await suite.nc.jetstreamManager()).consumers.info(stream, 'c1');
    expect(consumer.num_ack_pending).to.equal(0);
    await sink.shutdown();
    await logger.close();
  });

  it('dead-letters the events a target refuses one by one, and counts only the written ones', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    const events = [await logger.logEvent('keep', { i: 1 }), await logger.logEvent('poison', { i: 2 }), await logger.logEvent('keep', { i: 3 })];
    await sink.export(events, new AbortController().signal);
    const target = new CollectingSink();
    target.refuse.add('poison');
    const deadLetterPath = join(tempDir(), 'dead.jsonl');
    const collector = new Collector({ servers: URL, stream, durable: 'c3', target, deadLetterPath });
    await collector.start();
    await until(() => collector.stats.written + collector.stats.deadLettered === 3, 'the batch handled');
    await collector.stop();
    expect(collector.stats).to.include({ written: 2, deadLettered: 1 });
    expect(target.events.map((e) => e.action_type)).to.deep.equal(['keep', 'keep']);
    const dead = readFileSync(deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { reason: string; event: AuditEvent });
    expect(dead.map((d) => [d.reason, d.event.id])).to.deep.equal([['refused poison', events[1]!.id]]);
    const consumer = await (await suite.nc.jetstreamManager()).consumers.info(stream, 'c3');
    expect(consumer.num_ack_pending).to.equal(0);
    await sink.shutdown();
    await logger.close();
  });

  it('archives after a torn last line without gluing the next event to it', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ format: 'none' });
    const [a, b] = [await logger.logEvent('first'), await logger.logEvent('second')];
    const archive = new ArchiveSink(dir);
    await archive.export([a!]);
    await archive.shutdown();
    const path = join(dir, a!.source.log, 'audit_log.jsonl');
    appendFileSync(path, JSON.stringify(b).slice(0, 40)); // a crash in the middle of the next line
    const reopened = new ArchiveSink(dir);
    expect((await reopened.export([b!])).code).to.equal('ok');
    await reopened.shutdown();
    const lines = readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.map((e) => e.id)).to.deep.equal([a!.id, b!.id]);
    expect(readFileSync(path + '.torn', 'utf8')).to.equal(JSON.stringify(b).slice(0, 40) + '\n');
    await logger.close();
  });

  it('archives collected events per chain, once each', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const a = new AuditLogger({ format: 'none' });
    const b = new AuditLogger({ format: 'none' });
    const events = [await a.logEvent('x'), await b.logEvent('y'), await a.logEvent('z')];
    await sink.export(events, new AbortController().signal);
    const dir = tempDir();
    const archive = new ArchiveSink(dir);
    expect((await archive.export(events, new AbortController().signal)).code).to.equal('ok');
    const collector = new Collector({ servers: URL, stream, durable: 'c2', target: archive });
    await collector.start();
    await until(() => collector.stats.written === 3, '3 events written');
    await collector.stop();
    const chains = readdirSync(dir).sort();
    expect(chains).to.deep.equal([...new Set(events.map((e) => e.source.log))].sort());
    const lines = readFileSync(join(dir, events[0]!.source.log, 'audit_log.jsonl'), 'utf8').trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as AuditEvent).action_type)).to.deep.equal(['x', 'z']);
    await sink.shutdown();
    await Promise.all([a.close(), b.close()]);
  });
});
