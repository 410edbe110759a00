// Options of NatsSink and Collector: a bad value is an InvalidOptionError naming it, at construction;
// a dead-letter file that cannot be written at run time keeps the messages for redelivery.
import { expect } from 'chai';
import { mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { NatsConnection } from 'nats';
import { AuditLogger, InvalidOptionError, MAX_TIMER_MS, type AuditEvent, type BatchSink, type ExportResult } from '@auditrail/core';
import { Collector, ensureAuditStream, NatsSink, type CollectorOptions } from '@auditrail/nats';
import { tempDir } from '../../../test/helpers/tmp';
import { jetStreamSuite, NATS_URL, until } from './helpers';

const URL = NATS_URL;

/** A target that keeps what it receives and refuses, one by one, the events of the actions in `refuse`. */
class RefusingSink implements BatchSink {
  readonly name = 'refusing';
  readonly events: AuditEvent[] = [];
  constructor(private readonly refuse: string) {}
  async export(batch: readonly AuditEvent[]): Promise<ExportResult> {
    const rejected = batch.flatMap((e, index) => (e.action_type === this.refuse ? [{ index, reason: `refused ${e.action_type}` }] : []));
    this.events.push(...batch.filter((e) => e.action_type !== this.refuse));
    return { code: 'ok', rejected };
  }
}

/** Expects `make` to throw an InvalidOptionError naming `option`, and returns its message. */
function refuses(make: () => unknown, option: string, label = option): string {
  let error: unknown;
  try {
    make();
  } catch (err) {
    error = err;
  }
  expect(error, `an InvalidOptionError for ${option} (${label})`).to.be.instanceOf(InvalidOptionError);
  expect((error as InvalidOptionError).option, label).to.equal(option);
  return (error as InvalidOptionError).message;
}

const target = new RefusingSink('none');
const collector = (options: Partial<CollectorOptions>): Collector => new Collector({ servers: URL, target, ...options } as CollectorOptions);

describe('@auditrail/nats options', () => {
  const suite = jetStreamSuite('O');
  const { names } = suite;

  it('refuses a maxInFlight that is not a whole number of at least 1 (0.5 published nothing and reported ok)', () => {
    for (const maxInFlight of [0.5, 0, 2.5, -1, NaN, '8']) refuses(() => new NatsSink({ maxInFlight: maxInFlight as number }), 'maxInFlight');
    expect(() => new NatsSink({ maxInFlight: 1 })).not.to.throw();
  });

  it('refuses ackTimeoutMs and connectTimeoutMs past the longest Node timer', () => {
    for (const option of ['ackTimeoutMs', 'connectTimeoutMs'] as const) {
      for (const value of [2 ** 31, 3e9, 0, -5, Infinity, NaN]) refuses(() => new NatsSink({ [option]: value }), option);
      expect(() => new NatsSink({ [option]: MAX_TIMER_MS })).not.to.throw();
    }
  });

  it('refuses other bad sink options: servers, name, subject', () => {
    for (const servers of ['nats://127.0.0.1:99999', 'not a url', '', [], [URL, ''], 42]) refuses(() => new NatsSink({ servers: servers as string }), 'servers');
    refuses(() => new NatsSink({ name: '' }), 'name');
    refuses(() => new NatsSink({ subject: 'audit.x' as unknown as () => string }), 'subject');
    expect(() => new NatsSink({ servers: ['127.0.0.1:4222', 'nats://user:pw@localhost:4222', 'tls://[::1]:4222'] })).not.to.throw();
  });

  it('refuses stream options the server would refuse, or that typos would turn into a default', () => {
    const bad: [Record<string, unknown>, string][] = [
      [{ retention: 'workQueue' }, 'stream.retention'],
      [{ storage: 'mem' }, 'stream.storage'],
      [{ replicas: 0 }, 'stream.replicas'],
      [{ replicas: 1.5 }, 'stream.replicas'],
      [{ replicas: 6 }, 'stream.replicas'],
      [{ maxAgeMs: -1 }, 'stream.maxAgeMs'],
      [{ maxAgeMs: 1.5 }, 'stream.maxAgeMs'],
      [{ maxAgeMs: 1e13 }, 'stream.maxAgeMs'],
      [{ duplicateWindowMs: 0 }, 'stream.duplicateWindowMs'],
      [{ duplicateWindowMs: -1 }, 'stream.duplicateWindowMs'],
      [{ maxAgeMs: 60_000, duplicateWindowMs: 120_000 }, 'stream.duplicateWindowMs'],
      [{ name: 'A.B' }, 'stream.name'],
      [{ name: '' }, 'stream.name'],
      [{ subjects: [] }, 'stream.subjects'],
      [{ subjects: ['audit..x'] }, 'stream.subjects'],
      [{ subjects: ['other.>'] }, 'stream.subjects'], // the default subjects audit.<experiment>.<action> would find no stream
    ];
    for (const [stream, option] of bad) refuses(() => new NatsSink({ stream: stream as never }), option, JSON.stringify(stream));
    refuses(() => new NatsSink({ stream: true as never }), 'stream');
    expect(() => new NatsSink({ stream: { maxAgeMs: 0, duplicateWindowMs: 600_000, subjects: ['audit.*.*'], retention: 'workqueue', storage: 'memory' } })).not.to.throw();
    expect(() => new NatsSink({ subjectPrefix: 'a.b', stream: { subjects: ['a.>'] } })).not.to.throw();
    expect(() => new NatsSink({ subject: () => 'other.x', stream: { subjects: ['other.>'] } })).not.to.throw();
  });

  it('accepts stream subjects that capture only some published subjects (audit.train.>), and refuses lists that can match none', () => {
    const accepted: string[][] = [
      ['audit.train.>'],
      ['audit.train.*'],
      ['audit.*.hp_change'],
      ['audit.train.hp_change'],
      ['audit.>'],
      ['*.train.>'],
      ['*.*.*'],
      ['>'],
      ['other.>', 'audit.train.>'],
    ];
    for (const subjects of accepted) expect(() => new NatsSink({ stream: { subjects } }), JSON.stringify(subjects)).not.to.throw();
    expect(() => new NatsSink({ subjectPrefix: 'a.b', stream: { subjects: ['a.b.train.>'] } })).not.to.throw();
    expect(() => new NatsSink({ subjectPrefix: 'a.b', stream: { subjects: ['a.*.train.*'] } })).not.to.throw();
    const disjoint: string[][] = [
      ['other.>'],
      ['other.train.>', 'audits.>'],
      ['audit'], // one token: every published subject has three
      ['audit.train'],
      ['audit.*'],
      ['audit.train.hp_change.more'],
      ['audit.*.*.>'],
      ['audit.tr+in.>'], // a token the sink never makes (it turns + into _)
    ];
    for (const subjects of disjoint) {
      const message = refuses(() => new NatsSink({ stream: { subjects } }), 'stream.subjects', JSON.stringify(subjects));
      expect(message).to.include('cannot match any subject events are published to (audit.<experiment>.<action_type>)');
    }
    refuses(() => new NatsSink({ subjectPrefix: 'a.b', stream: { subjects: ['a.c.>'] } }), 'stream.subjects');
  });

  it('publishes into a stream capturing one experiment (audit.<prefix>.train.>) from a logger of that experiment', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream, subjects: [`${prefix}.train.>`] } });
    const logger = new AuditLogger({ format: 'none', experimentName: 'train' });
    const result = await sink.export([await logger.logEvent('hp_change')], new AbortController().signal);
    expect(result.code, result.code === 'ok' ? '' : result.error.message).to.equal('ok');
    const info = await (await suite.nc.jetstreamManager()).streams.info(stream);
    expect(info.config.subjects).to.deep.equal([`${prefix}.train.>`]);
    expect(info.state.messages).to.equal(1);
    await sink.shutdown();
    await logger.close();
  });

  it('refuses unknown keys in the stream options (a misspelt maxAge did nothing), naming stream.<key> and the field a misspelling meant', async () => {
    const misspelled: [string, string][] = [
      ['maxAge', 'maxAgeMs'],
      ['subject', 'subjects'],
      ['duplicateWindow', 'duplicateWindowMs'],
      ['replica', 'replicas'],
    ];
    for (const [key, meant] of misspelled) {
      const message = refuses(() => new NatsSink({ stream: { [key]: 1 } as never }), `stream.${key}`);
      expect(message).to.match(new RegExp(`^Invalid option "stream\\.${key}": is not a stream option; did you mean "${meant}"\\? \\(known: name, subjects, `));
    }
    // A key that resembles no field is refused all the same, with the list of fields.
    expect(refuses(() => new NatsSink({ stream: { description: 'audit' } as never }), 'stream.description')).to.include('is not a stream option').and.include('maxAgeMs');
    let error: unknown;
    await ensureAuditStream({} as never, 'audit', { maxAge: 60_000 } as never).catch((err: unknown) => (error = err));
    expect(error).to.be.instanceOf(InvalidOptionError);
    expect((error as InvalidOptionError).option).to.equal('stream.maxAge');
  });

  it('refuses a misspelled sink or collector option name, naming the option meant, at construction; other unknown names are left alone', () => {
    const sinkMisspelled: [Record<string, unknown>, string, string][] = [
      [{ ackTimeout: 30_000 }, 'ackTimeout', 'ackTimeoutMs'], // would have left the 5 s default
      [{ subject_prefix: 'ml' }, 'subject_prefix', 'subjectPrefix'], // would have published to audit.* instead
      [{ streams: false }, 'streams', 'stream'],
    ];
    for (const [options, name, meant] of sinkMisspelled) {
      expect(refuses(() => new NatsSink({ servers: URL, ...options } as never), name)).to.equal(`Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    const dir = tempDir();
    const deadLetterPath = join(dir, 'dead.jsonl');
    const collectorMisspelled: [Record<string, unknown>, string, string][] = [
      [{ batch_size: 50 }, 'batch_size', 'batchSize'],
      [{ exportTimeout: 60_000 }, 'exportTimeout', 'exportTimeoutMs'], // would have left the 20 s default
    ];
    for (const [options, name, meant] of collectorMisspelled) {
      expect(refuses(() => collector({ deadLetterPath, ...options }), name)).to.equal(`Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    // Checked first: a misspelling is named even next to an option that is bad in another way.
    refuses(() => new NatsSink({ ackTimeout: 1, maxInFlight: 0 } as never), 'ackTimeout');
    refuses(() => collector({ batch_size: 50, target: undefined } as never), 'batch_size');
    expect(() => readFileSync(deadLetterPath), 'nothing created').to.throw(/ENOENT/);
    expect(() => new NatsSink({ servers: URL, team: 'ml-platform' } as never)).not.to.throw();
    expect(() => collector({ team: 'ml-platform' } as never)).not.to.throw();
  });

  it('refuses an ack wait no longer than the export timeout (a batch would be redelivered while it is exported)', () => {
    expect(refuses(() => collector({ exportTimeoutMs: 60_000 }), 'ackWaitMs')).to.equal(
      'Invalid option "ackWaitMs": 30000 ms must be longer than exportTimeoutMs (60000 ms): messages would be redelivered while their batch is still being exported',
    );
    expect(refuses(() => collector({ ackWaitMs: 5_000, exportTimeoutMs: 5_000 }), 'ackWaitMs')).to.include('must be longer than exportTimeoutMs (5000 ms)');
    expect(() => collector({ ackWaitMs: 5_001, exportTimeoutMs: 5_000 })).not.to.throw();
    expect(() => collector({})).not.to.throw(); // the defaults: 30 s against 20 s
  });

  it('names stream.<field> for a stream field given at the top level of the sink options', () => {
    expect(refuses(() => new NatsSink({ subjects: ['audit.>'] } as never), 'subjects')).to.equal('Invalid option "subjects": is not an option; did you mean "stream.subjects"?');
    expect(refuses(() => new NatsSink({ maxAgeMs: 60_000 } as never), 'maxAgeMs')).to.equal('Invalid option "maxAgeMs": is not an option; did you mean "stream.maxAgeMs"?');
    expect(() => new NatsSink({ name: 'nats-audit' })).not.to.throw(); // the sink's own name, not the stream's
  });

  it('describes the bad value in messages as core does (strings quoted, arrays and objects by kind)', () => {
    expect(refuses(() => collector({ onBatch: 'log' as never }), 'onBatch')).to.equal('Invalid option "onBatch": must be a function, got "log"');
    expect(refuses(() => new NatsSink({ subject: 42 as never }), 'subject')).to.equal('Invalid option "subject": must be a function, got 42');
    expect(refuses(() => new NatsSink({ stream: { retention: ['limits'] as never } }), 'stream.retention')).to.include('an array is not one of "limits", "interest", "workqueue"');
    expect(refuses(() => new NatsSink({ stream: { storage: 5 as never } }), 'stream.storage')).to.include('5 is not one of "file", "memory"');
    expect(refuses(() => collector({ stream: { name: 'AUDIT' } as never }), 'stream')).to.include('an object is not a valid name');
    expect(refuses(() => new NatsSink({ stream: [] as never }), 'stream')).to.include('got an array');
  });

  it('creates a stream whose maxAgeMs is under the default duplicate window (the window follows it)', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream, maxAgeMs: 60_000 } });
    const logger = new AuditLogger({ format: 'none' });
    const result = await sink.export([await logger.logEvent('x')], new AbortController().signal);
    expect(result.code, result.code === 'ok' ? '' : result.error.message).to.equal('ok');
    const info = await (await suite.nc.jetstreamManager()).streams.info(stream);
    expect(info.config.duplicate_window).to.equal(60_000 * 1e6);
    await sink.shutdown();
    await logger.close();
  });

  it('refuses a collector target that is not a batch sink, and a bad exportTimeoutMs', () => {
    for (const bad of [undefined, null, {}, { name: 'x' }, { export: async () => ({ code: 'ok' }) }]) refuses(() => collector({ target: bad as never }), 'target');
    for (const exportTimeoutMs of [0, 3e9, 2 ** 31, -1, NaN]) refuses(() => collector({ exportTimeoutMs }), 'exportTimeoutMs');
    expect(() => collector({ exportTimeoutMs: MAX_TIMER_MS, ackWaitMs: MAX_TIMER_MS + 1 })).not.to.throw();
  });

  it('refuses other bad collector options', () => {
    refuses(() => collector({ batchSize: 0.5 }), 'batchSize');
    for (const ackWaitMs of [0, -1, 1.5, 1e13]) refuses(() => collector({ ackWaitMs }), 'ackWaitMs');
    refuses(() => collector({ stream: 'A B' }), 'stream');
    refuses(() => collector({ durable: 'a.b' }), 'durable');
    refuses(() => collector({ servers: 'nats://127.0.0.1:99999' }), 'servers');
    refuses(() => collector({ onBatch: 'log' as never }), 'onBatch');
    refuses(() => collector({ onWarning: 'log' as never }), 'onWarning');
  });

  it('refuses a deadLetterPath that cannot be appended to, without creating anything', () => {
    const dir = tempDir();
    refuses(() => collector({ deadLetterPath: join(dir, 'missing', 'dead.jsonl') }), 'deadLetterPath');
    refuses(() => collector({ deadLetterPath: dir }), 'deadLetterPath'); // a directory
    refuses(() => collector({ deadLetterPath: '' }), 'deadLetterPath');
    expect(() => collector({ deadLetterPath: join(dir, 'dead.jsonl') })).not.to.throw();
    expect(() => readFileSync(join(dir, 'dead.jsonl'))).to.throw(/ENOENT/);
  });

  it('keeps collecting when onBatch throws, reporting ON_BATCH_THREW', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    const events = [await logger.logEvent('a'), await logger.logEvent('b')];
    expect((await sink.export(events, new AbortController().signal)).code).to.equal('ok');
    const warnings: string[] = [];
    const onBatch = (): void => {
      throw new Error('a broken log line');
    };
    const c = new Collector({ servers: URL, stream, durable: 'b1', target: new RefusingSink('none'), onBatch, onWarning: ({ code }) => warnings.push(code) });
    let failed: unknown;
    await c.start();
    c.done().catch((err: unknown) => (failed = err));
    await until(() => c.stats.written === 2, 'both events written');
    await c.stop();
    expect(failed).to.equal(undefined);
    expect(warnings).to.include('ON_BATCH_THREW');
    await sink.shutdown();
    await logger.close();
  });

  it('a collector whose loop fails (its connection closed under it) warns COLLECTOR_STOPPED, and does not crash a program that never awaits done()', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    expect((await sink.export([await logger.logEvent('a')], new AbortController().signal)).code).to.equal('ok');
    const warnings: string[] = [];
    let collector: Collector | undefined;
    const target: BatchSink = {
      name: 'closing',
      async export() {
        // The connection dies while the batch is written: its acknowledgement cannot be sent.
        await (collector as unknown as { connection: NatsConnection }).connection.close();
        return { code: 'ok' };
      },
    };
    collector = new Collector({ servers: URL, stream, durable: 'x1', target, onWarning: ({ code, message }) => warnings.push(`${code}: ${message}`) });
    await collector.start();
    await until(() => warnings.some((w) => w.startsWith('COLLECTOR_STOPPED')), 'COLLECTOR_STOPPED');
    expect(warnings.find((w) => w.startsWith('COLLECTOR_STOPPED'))).to.match(/collecting stopped on an error: /);
    await collector.stop();
    await sink.shutdown();
    await logger.close();
  });

  it('keeps a message whose dead letter cannot be written unacknowledged, and writes it once it can', async () => {
    const { stream, prefix } = names();
    const sink = new NatsSink({ servers: URL, subjectPrefix: prefix, stream: { name: stream } });
    const logger = new AuditLogger({ format: 'none' });
    const events = [await logger.logEvent('keep', { i: 1 }), await logger.logEvent('poison', { i: 2 }), await logger.logEvent('keep', { i: 3 })];
    expect((await sink.export(events, new AbortController().signal)).code).to.equal('ok');
    const dir = join(tempDir(), 'dead');
    mkdirSync(dir);
    const deadLetterPath = join(dir, 'dead.jsonl');
    const warnings: string[] = [];
    const target = new RefusingSink('poison');
    const c = new Collector({ servers: URL, stream, durable: 'd1', target, deadLetterPath, onWarning: ({ code }) => warnings.push(code) });
    rmSync(dir, { recursive: true }); // the directory goes away after the check
    let failed: unknown;
    await c.start();
    c.done().catch((err: unknown) => (failed = err));
    await until(() => warnings.length >= 2, 'two DEAD_LETTER_FAILED warnings');
    expect(warnings[0]).to.equal('DEAD_LETTER_FAILED');
    expect(c.stats).to.include({ written: 2, deadLettered: 0 });
    mkdirSync(dir);
    await until(() => c.stats.deadLettered === 1, 'the dead letter written');
    await c.stop();
    expect(failed).to.equal(undefined);
    expect(target.events.map((e) => e.id)).to.deep.equal([events[0]!.id, events[2]!.id]);
    const dead = readFileSync(deadLetterPath, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { event: AuditEvent });
    expect(dead.map((d) => d.event.id)).to.deep.equal([events[1]!.id]);
    const consumer = await (await suite.nc.jetstreamManager()).consumers.info(stream, 'd1');
    expect(consumer.num_ack_pending).to.equal(0);
    await sink.shutdown();
    await logger.close();
  });
});
