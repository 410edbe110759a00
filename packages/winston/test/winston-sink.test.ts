// WinstonSink with real winston transports: File in a temp dir, Stream, a transport that fails, levels, flush and close.
import { expect } from 'chai';
import { createWriteStream, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditLogger, InvalidOptionError, outcomeStatuses, pipelineStatuses, SinkError, type AuditEvent } from '@auditrail/core';
import { WinstonSink, levelForStatus } from '@auditrail/winston';
import winston from 'winston';
import TransportStream from 'winston-transport';
import { runTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl, readLines } from './helpers';

type Line = AuditEvent & { level: string; message: string };

describe('WinstonSink', () => {
  it('writes every event through a File transport, as JSON with the level from the status, on disk after close', async () => {
    const dir = tempDir();
    const file = join(dir, 'audit-winston.log');
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [new WinstonSink(new winston.transports.File({ filename: file }))] });
    await audit.logEvent('Data Ingestion started', { file: 'dataset.csv' });
    await audit.logEvent('Drift detected', { feature: 'age', drift_score: 0.8 }, 'WARNING');
    await audit.logEvent({ action: 'Model training failed', status: 'FAILURE', error: 'Out of memory' });
    await audit.close();
    const lines = readLines<Line>(file);
    expect(lines.map((l) => [l.message, l.level, l.status])).to.deep.equal([
      ['Data Ingestion started', 'info', 'INFO'],
      ['Drift detected', 'warn', 'WARNING'],
      ['Model training failed', 'error', 'FAILURE'],
    ]);
    const events = readJsonl(dir);
    for (const [i, line] of lines.entries()) {
      expect(line).to.deep.include({ id: events[i]!.id, seq: events[i]!.seq, hash: events[i]!.hash, details: events[i]!.details, error: events[i]!.error });
    }
  });

  it('flush() returns once a File transport has the events in the file, without closing it', async () => {
    const dir = tempDir();
    const file = join(dir, 'out.log');
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [new WinstonSink(new winston.transports.File({ filename: file }))] });
    for (let i = 0; i < 500; i++) void audit.logEvent('tag_add', { i, tag_name: 'x'.repeat(200) });
    await audit.flush();
    expect(readLines(file)).to.have.length(500);
    await audit.logEvent('tag_remove', { i: 500 });
    await audit.flush();
    expect(readLines(file)).to.have.length(501);
    await audit.close();
  });

  it('writes through a Stream transport into a file stream, complete once close() resolves', async () => {
    const dir = tempDir();
    const file = join(dir, 'stream.log');
    const stream = createWriteStream(file);
    const audit = new AuditLogger({ format: 'none', sinks: [new WinstonSink(new winston.transports.Stream({ stream }))] });
    for (let i = 0; i < 200; i++) void audit.logEvent('sample_discard', { samples_affected: i });
    await audit.close();
    expect(readLines<Line>(file).map((l) => (l.details as { samples_affected: number }).samples_affected)).to.deep.equal([...Array(200).keys()]);
    stream.end();
  });

  it("honours the transport's level, its own format, and custom levels and message", async () => {
    const collected: string[] = [];
    const stream = new PassThrough().on('data', (chunk: Buffer) => collected.push(chunk.toString()));
    const transport = new winston.transports.Stream({ stream, level: 'warn', format: winston.format.printf((info) => `${info.level} ${String(info.message)}`) });
    const statuses = pipelineStatuses.extend('CRITICAL');
    const sink = new WinstonSink(transport, { message: (e) => `${e.action_type}#${e.seq}`, levels: { INFO: 'debug' } });
    const audit = new AuditLogger({ format: 'none', statuses, sinks: [sink] });
    await audit.logEvent('a'); // INFO -> debug: below 'warn'
    await audit.logEvent('b', {}, 'WARNING');
    await audit.logEvent('c', {}, 'CRITICAL');
    await audit.close();
    expect(collected.join('')).to.equal('warn b#2\nerror c#3\n');
    expect([0, 1, 2, 3].map((i) => levelForStatus(statuses, statuses.statuses![i]!))).to.deep.equal(['info', 'warn', 'error', 'error']);
  });

  it("gives a warning the syslog level 'warning' on a transport using syslog levels (winston would drop 'warn' silently)", async () => {
    const collected: string[] = [];
    const stream = new PassThrough().on('data', (chunk: Buffer) => collected.push(chunk.toString()));
    const transport = new winston.transports.Stream({ stream, level: 'debug', format: winston.format.printf((info) => `${info.level} ${String(info.message)}`) });
    const audit = new AuditLogger({ format: 'none', sinks: [new WinstonSink(transport, { levelTable: winston.config.syslog.levels })] });
    await audit.logEvent('a');
    await audit.logEvent('b', {}, 'WARNING');
    await audit.logEvent('c', {}, 'FAILURE');
    await audit.close();
    expect(collected.join('')).to.equal('info a\nwarning b\nerror c\n');
  });

  it('fails the logEvent whose write the transport failed, keeps going, and refuses writes after close', async () => {
    class Flaky extends TransportStream {
      override log(info: { details?: { fail?: boolean } }, callback: () => void): void {
        setImmediate(() => {
          if (info.details?.fail) this.emit('error', new Error('disk quota exceeded'));
          callback();
        });
      }
    }
    const sink = new WinstonSink(new Flaky(), { name: 'flaky' });
    const audit = new AuditLogger({ format: 'none', sinks: [sink] });
    await audit.logEvent('ok');
    const err = await audit.logEvent('bad', { fail: true }).then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(SinkError);
    expect((err as SinkError).message).to.equal('Sink "flaky" failed: disk quota exceeded');
    await audit.logEvent('ok again');
    await audit.close();
    const event = (await new AuditLogger({ format: 'none' }).logEvent('late')) as AuditEvent;
    expect(() => sink.write(event)).to.throw(/transport was ended/);
  });

  it('reports a transport error with no write in flight as a warning on the bus', async () => {
    const transport = new winston.transports.Stream({ stream: new PassThrough() });
    const audit = new AuditLogger({ format: 'none', sinks: [new WinstonSink(transport, { name: 'side' })] });
    const warnings: { code: string; message: string }[] = [];
    audit.on('warning', (w) => warnings.push(w));
    transport.emit('error', new Error('connection reset'));
    expect(warnings).to.deep.equal([{ code: 'WINSTON_TRANSPORT_ERROR', message: 'sink "side": connection reset' }]);
    await audit.close();
  });

  it('times out a write and a close when the transport stops calling back', async () => {
    class Stuck extends TransportStream {
      override log(): void {}
    }
    const audit = new AuditLogger({ format: 'none', sinks: [new WinstonSink(new Stuck(), { name: 'stuck', timeoutMs: 50 })] });
    const err = await audit.logEvent('x').then(() => null, (e: unknown) => e);
    expect(err).to.be.instanceOf(SinkError);
    expect((err as Error).message).to.match(/did not call back within 50 ms/);
    const closeErr = await audit.close().then(() => null, (e: unknown) => e);
    expect(closeErr).to.be.instanceOf(SinkError);
    expect((closeErr as Error).message).to.match(/did not finish within 50 ms/);
  });

  it('refuses what is not a transport', () => {
    for (const [transport, shown] of [
      [undefined, 'undefined'],
      [{}, 'an object'],
      ['console', '"console"'],
    ] as const) {
      expect(() => new WinstonSink(transport as never), shown)
        .to.throw(InvalidOptionError, `Invalid option "transport": ${shown} is not a winston transport`)
        .with.property('option', 'transport');
    }
  });

  it('refuses a timeoutMs that is not a number of milliseconds a timer takes', () => {
    for (const timeoutMs of [0, -1, NaN, Infinity, 3e9, '100' as never]) {
      expect(() => new WinstonSink(new winston.transports.Stream({ stream: new PassThrough() }), { timeoutMs }), String(timeoutMs))
        .to.throw(InvalidOptionError, /"timeoutMs"/)
        .with.property('option', 'timeoutMs');
    }
  });

  it('refuses a misspelled option name, naming the option meant, before touching the transport; other unknown names are left alone', () => {
    const transport = new winston.transports.Stream({ stream: new PassThrough() });
    const listeners = transport.listenerCount('error');
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ timeout: 60_000 }, 'timeout', 'timeoutMs'], // would have left the 10 s default
      [{ level_table: winston.config.syslog.levels }, 'level_table', 'levelTable'], // would have checked levels against npm's table
      [{ messages: () => 'text' }, 'messages', 'message'],
    ];
    for (const [options, name, meant] of misspelled) {
      expect(() => new WinstonSink(transport, options as never), name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    // Checked first: a misspelling is named even next to an option that is bad in another way.
    expect(() => new WinstonSink(transport, { name: '', timeout: 5 } as never)).to.throw(InvalidOptionError, '"timeout"');
    expect(transport.listenerCount('error'), 'no listener added').to.equal(listeners);
    expect((transport as { levels?: unknown }).levels, 'no level table set').to.equal(undefined);
    const sink = new WinstonSink(transport, { name: 'audit-stream', team: 'ml-platform' } as never);
    expect(sink.name).to.equal('audit-stream');
    expect(transport.listenerCount('error')).to.equal(listeners + 1);
  });

  it('refuses a format factory passed uncalled, and a message that is not a function', () => {
    const transport = new winston.transports.Stream({ stream: new PassThrough() });
    expect(() => new WinstonSink(transport, { format: winston.format.json as never })).to.throw(InvalidOptionError, /"format".*did you mean winston\.format\.json\(\)/);
    expect(() => new WinstonSink(transport, { format: {} as never })).to.throw(InvalidOptionError, /"format"/);
    expect(() => new WinstonSink(transport, { message: 'text' as never })).to.throw(InvalidOptionError, /"message": "text" is not a function/);
  });

  it("refuses a level the transport's level table lacks, in levels or as the transport's own level (winston would drop the lines silently)", () => {
    const stream = (): PassThrough => new PassThrough();
    expect(() => new WinstonSink(new winston.transports.Stream({ stream: stream() }), { levels: { FAILURE: 'critical' } }))
      .to.throw(InvalidOptionError, /"levels\.FAILURE": "critical" is not a level/)
      .with.property('option', 'levels.FAILURE');
    expect(() => new WinstonSink(new winston.transports.Stream({ stream: stream() }), { levels: { FAILURE: 'crit' }, levelTable: winston.config.syslog.levels })).not.to.throw();
    expect(() => new WinstonSink(new winston.transports.Stream({ stream: stream(), level: 'warning' }))).to.throw(InvalidOptionError, /"transport\.level": "warning"/);
    expect(() => new WinstonSink(new winston.transports.Stream({ stream: stream() }), { levelTable: winston.config.syslog as never })).to.throw(InvalidOptionError, /"levelTable\.levels"/);
    expect(() => new WinstonSink(new winston.transports.Stream({ stream: stream() }), { name: '' })).to.throw(InvalidOptionError, /"name"/);
  });

  it('refuses, when the logger adds it, a level table that has no level for some status of the logger\'s scheme (winston would drop those events silently)', () => {
    const table = { alarm: 0, note: 1 };
    const sink = (levels?: Record<string, string>) =>
      new WinstonSink(new winston.transports.Stream({ stream: new PassThrough(), level: 'note' }), { levelTable: table, ...(levels ? { levels } : {}) });
    const dir = join(tempDir(), 'never-created');
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink()] })).to.throw(InvalidOptionError, /"levels\.INFO": status INFO would be written at level "info", which the transport's level table lacks \(alarm, note\)/);
    expect(existsSync(dir), 'checked before the logger creates anything').to.equal(false);
    // A scheme switched in later by use(plugin) is checked against the sink as well: WARNING would get 'warn'.
    const outcome = new AuditLogger({ format: 'none', statuses: outcomeStatuses, sinks: [sink({ success: 'note', failed: 'alarm' })] });
    expect(() => outcome.use({ name: 'pipeline', statuses: pipelineStatuses })).to.throw(InvalidOptionError, /"levels\.INFO"/);
    expect(outcome.statuses.name).to.equal('outcome');
    void outcome.close();
    const mapped = new AuditLogger({ format: 'none', sinks: [sink({ INFO: 'note', WARNING: 'note', FAILURE: 'alarm' })] });
    expect(mapped.statuses.name).to.equal('pipeline');
    void mapped.close();
  });
});

// The flush-before-exit case: a process logs, then exits at once; nothing it logged may be missing.
describe('WinstonSink and AuditTransport when the process exits right after logging', () => {
  const fixture = join(__dirname, 'fixtures', 'exit-child.ts');
  const n = 300;

  function check(dir: string): void {
    const events = readJsonl(dir);
    expect(events).to.have.length(2 * n);
    expect(events.filter((e) => e.action_type === 'hp_change').map((e) => (e.details as { i: number }).i)).to.deep.equal([...Array(n).keys()]);
    const lines = readLines<Line>(join(dir, 'winston-sink.log'));
    expect(lines.map((l) => l.seq)).to.deep.equal(events.map((e) => e.seq));
  }

  for (const [mode, code] of [
    ['exit', 0],
    ['exitCode-close', 7],
    ['exitCode', 7],
  ] as const) {
    it(`loses no event with ${mode === 'exit' ? 'close() then process.exit()' : mode === 'exitCode' ? 'process.exitCode and no close' : 'close() then process.exitCode'}`, async () => {
      const dir = tempDir();
      const result = await runTs(fixture, [dir, mode, String(n)]);
      expect(result.stderr).to.equal('');
      expect(result.code).to.equal(code);
      check(dir);
    });
  }

  it('loses no event printed by a Console transport before process.exit()', async () => {
    const dir = tempDir();
    const result = await runTs(fixture, [dir, 'console', String(n)]);
    expect(result.code).to.equal(0);
    const printed = result.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Line);
    expect(printed.map((l) => l.seq)).to.deep.equal(readJsonl(dir).map((e) => e.seq));
    expect(printed).to.have.length(2 * n);
    expect(readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').split('\n')).to.have.length(2 * n + 1);
  });
});
