// The public API of AuditLogger: both seeds' call forms, statuses, subclassing, lifecycle, bus, plugins and filters.
import { expect } from 'chai';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLogger,
  InvalidEventError,
  InvalidOptionError,
  InvalidStatusError,
  LoggerClosedError,
  MemorySink,
  defineSink,
  definePlugin,
  defineStatuses,
  outcomeStatuses,
  pipelineStatuses,
  statusValidator,
  type AuditEvent,
  type AuditLoggerOptions,
  type Details,
} from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl, rejectionOf } from './helpers';

describe('AuditLogger API', () => {
  describe('logEvent forms', () => {
    it('accepts (action, details, status) and the object form with action, action_type and event_name', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const a = await logger.logEvent('Data preprocessing started', { file: 'dataset.csv' }, 'INFO');
      const b = await logger.logEvent({ action: 'Drift detected', details: { feature: 'age' }, status: 'WARNING' });
      const c = await logger.logEvent({ action_type: 'hp_change', details: { lr: 0.001 }, error: 'boom', actor: 'alice', status: 'FAILURE' });
      const d = await logger.logEvent({ event_name: 'Model Training Started' });
      await logger.close();
      const onDisk = readJsonl(dir);
      expect(onDisk.map((e) => e.action_type)).to.deep.equal(['Data preprocessing started', 'Drift detected', 'hp_change', 'Model Training Started']);
      expect(onDisk.map((e) => e.status)).to.deep.equal(['INFO', 'WARNING', 'FAILURE', 'INFO']);
      expect(onDisk[2]).to.include({ error: 'boom', actor: 'alice' });
      expect(onDisk[3]!.details).to.deep.equal({});
      expect([a, b, c, d].map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
      // The returned event is the one on disk.
      expect(onDisk).to.deep.equal([a, b, c, d]);
    });

    it('records an Error given as error as "Name: message"', async () => {
      const logger = new AuditLogger({ format: 'none' });
      const event = await logger.logEvent({ action: 'checkpoint_restore', status: 'FAILURE', error: new RangeError('Checkpoint file not found') });
      expect(event.error).to.equal('RangeError: Checkpoint file not found');
      await logger.close();
    });

    it('refuses two action names in one object, writing nothing', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const input = { action: 'a', action_type: 'b' } as unknown as { action: string };
      const err = await rejectionOf(logger.logEvent(input));
      await logger.close();
      expect(err).to.be.instanceOf(InvalidEventError);
      expect(err.message).to.include('action and action_type');
      expect(readJsonl(dir)).to.deep.equal([]);
    });
  });

  describe('statuses', () => {
    it('defaults to the scheme default: INFO for pipeline statuses, success for the first seed', async () => {
      const a = new AuditLogger({ format: 'none' });
      const b = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
      const c = new AuditLogger({ format: 'none', statuses: defineStatuses(['ok', 'bad'], { defaultStatus: 'bad' }) });
      expect((await a.logEvent('x')).status).to.equal('INFO');
      expect((await b.logEvent({ action_type: 'tag_add' })).status).to.equal('success');
      expect((await c.logEvent('x')).status).to.equal('bad');
      await Promise.all([a.close(), b.close(), c.close()]);
    });

    it('rejects an unknown status naming it and the valid ones, and writes nothing', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
      const err = await rejectionOf(logger.logEvent('x', {}, 'CRITICAL'));
      expect(err).to.be.instanceOf(InvalidStatusError);
      expect(err.message).to.include('"CRITICAL"').and.include('"INFO", "WARNING", "FAILURE"');
      await logger.logEvent('y');
      await logger.close();
      expect(readJsonl(dir).map((e) => [e.seq, e.action_type])).to.deep.equal([[1, 'y']]);
    });

    it('extends a scheme with CRITICAL in one line, most severe', () => {
      const scheme = pipelineStatuses.extend('CRITICAL');
      expect(scheme.statuses).to.deep.equal(['INFO', 'WARNING', 'FAILURE', 'CRITICAL']);
      expect(scheme.severity('CRITICAL')).to.be.greaterThan(scheme.severity('FAILURE'));
      expect(scheme.defaultStatus).to.equal('INFO');
    });

    it('accepts any status a validator function accepts', async () => {
      const httpish = statusValidator((s) => /^[1-5]\d\d$/.test(s), { name: 'http', defaultStatus: '200', severity: (s) => Number(s[0]) });
      const sink = new MemorySink({ filter: { minSeverity: '500' } });
      const logger = new AuditLogger({ format: 'none', statuses: httpish, sinks: [sink] });
      expect((await logger.logEvent('GET /')).status).to.equal('200');
      await logger.logEvent('GET /x', {}, '503');
      const err = await rejectionOf(logger.logEvent('GET /y', {}, 'teapot'));
      expect(err).to.be.instanceOf(InvalidStatusError);
      expect(err.message).to.include('"teapot"').and.include('"http"');
      expect(sink.events.map((e) => e.status)).to.deep.equal(['503']);
      await logger.close();
    });

    it('takes a status scheme from a plugin', async () => {
      const logger = new AuditLogger({ format: 'none' }).use(definePlugin({ name: 'outcomes', statuses: outcomeStatuses }));
      expect((await logger.logEvent('tag_add')).status).to.equal('success');
      expect(await rejectionOf(logger.logEvent('tag_add', {}, 'INFO'))).to.be.instanceOf(InvalidStatusError);
      await logger.close();
    });
  });

  describe('subclassing as the second seed does', () => {
    const VALID_STATUSES = ['INFO', 'WARNING', 'FAILURE', 'CRITICAL'];

    class ExtendedAuditLogger extends AuditLogger {
      readonly seen: string[] = [];
      constructor(options: AuditLoggerOptions = {}) {
        super({ ...options, statuses: pipelineStatuses.extend('CRITICAL') });
      }
      override logEvent(eventName: string, details?: Details, status = 'INFO'): Promise<AuditEvent> {
        if (!VALID_STATUSES.includes(status)) throw new Error(`Invalid status: ${status}`);
        this.seen.push(eventName);
        return super.logEvent(eventName, details, status);
      }
    }

    it('overrides logEvent, adds its checks and side effects, and calls super.logEvent', async () => {
      const dir = tempDir();
      const logger = new ExtendedAuditLogger({ rootLogDir: dir, format: 'jsonl' });
      await logger.logEvent('GPU on fire', { gpu: 3 }, 'CRITICAL');
      await logger.logEvent('Model deployment successful', { version: '1.0.1' });
      expect(() => logger.logEvent('x', {}, 'DEBUG')).to.throw('Invalid status: DEBUG');
      await logger.close();
      expect(logger.seen).to.deep.equal(['GPU on fire', 'Model deployment successful']);
      expect(readJsonl(dir).map((e) => [e.action_type, e.status])).to.deep.equal([
        ['GPU on fire', 'CRITICAL'],
        ['Model deployment successful', 'INFO'],
      ]);
    });

    it('works for an external-database subclass that writes after super.logEvent', async () => {
      const rows: unknown[] = [];
      class ExternalAuditLogger extends AuditLogger {
        override async logEvent(eventName: string, details?: Details, status = 'INFO'): Promise<AuditEvent> {
          const event = await super.logEvent(eventName, details, status);
          rows.push({ event: eventName, details, status, seq: event.seq });
          return event;
        }
      }
      const logger = new ExternalAuditLogger({ format: 'none' });
      await logger.logEvent('Model deployment successful', { version: '1.0.1' });
      await logger.close();
      expect(rows).to.deep.equal([{ event: 'Model deployment successful', details: { version: '1.0.1' }, status: 'INFO', seq: 1 }]);
    });
  });

  describe('options', () => {
    it('refuses a bad option at construction, naming it, and creates nothing', () => {
      const dir = join(tempDir(), 'never-created');
      const bad: [Partial<AuditLoggerOptions>, RegExp][] = [
        [{ fsync: 'sometimes' as 'always' }, /Invalid option "fsync": "sometimes" is not one of "never", "interval", "always"/],
        [{ onError: 'ignore' as 'emit' }, /Invalid option "onError"/],
        [{ order: 'random' as 'newest-first' }, /Invalid option "order"/],
        [{ experimentName: '../escape' }, /Invalid option "experimentName"/],
        [{ experimentName: '' }, /Invalid option "experimentName": must be a non-empty string/],
        [{ lockStaleMs: 999 }, /Invalid option "lockStaleMs": 999 is not a number of milliseconds of at least 1000/],
        [{ lockStaleMs: Number.NaN }, /Invalid option "lockStaleMs": NaN is not a number of milliseconds/],
        [{ fsyncIntervalMs: -5 }, /Invalid option "fsyncIntervalMs": -5 is not a number of milliseconds from 1 to 2147483647/],
        [{ fsyncIntervalMs: 2 ** 31 }, /Invalid option "fsyncIntervalMs"/],
        [{ lockTimeoutMs: Number.NaN }, /Invalid option "lockTimeoutMs": NaN is not a number of milliseconds of at least 0/],
        [{ delivery: { policy: { maxBatchSize: 0 } } }, /Invalid option "delivery.policy.maxBatchSize"/],
        [{ delivery: { pollIntervalMs: 0 } }, /Invalid option "delivery.pollIntervalMs": 0 is not a number of milliseconds from 1 to 2147483647/],
        [{ delivery: { pollIntervalMs: '500' as unknown as number } }, /Invalid option "delivery.pollIntervalMs": "500" is not a number/],
      ];
      for (const [options, message] of bad) {
        expect(() => new AuditLogger({ rootLogDir: dir, ...options }), message.source).to.throw(InvalidOptionError, message);
      }
      expect(existsSync(dir)).to.equal(false);
    });

    it('creates a missing rootLogDir (and its parents) with mode 0700', async () => {
      const dir = join(tempDir(), 'a', 'b', 'logs');
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      await logger.logEvent('x');
      await logger.close();
      expect(statSync(dir).mode & 0o777).to.equal(0o700);
      expect(statSync(join(dir, 'audit_log.jsonl')).mode & 0o777).to.equal(0o600);
    });
  });

  describe('flush and close', () => {
    it('are idempotent and a concurrent second call shares the promise', async () => {
      const logger = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', fsync: 'always' });
      await logger.logEvent('x');
      const f1 = logger.flush();
      const f2 = logger.flush();
      expect(f1).to.equal(f2);
      await f1;
      await logger.flush();
      const c1 = logger.close();
      const c2 = logger.close();
      expect(c1).to.equal(c2);
      await c1;
      await logger.close();
      expect(logger.close()).to.equal(c1);
    });

    it('waits for async sinks before resolving', async () => {
      const written: number[] = [];
      const slow = defineSink({
        name: 'slow',
        write: (event) => new Promise<void>((resolve) => setTimeout(() => (written.push(event.seq), resolve()), 20)),
      });
      const logger = new AuditLogger({ format: 'none', sinks: [slow] });
      void logger.logEvent('a');
      void logger.logEvent('b');
      await logger.close();
      expect(written).to.deep.equal([1, 2]);
    });

    it('refuses events, sinks and plugins after close with LoggerClosedError', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      await logger.logEvent('before');
      const closing = logger.close();
      const err = await rejectionOf(logger.logEvent('after'));
      await closing;
      expect(err).to.be.instanceOf(LoggerClosedError);
      expect((err as LoggerClosedError).code).to.equal('LOGGER_CLOSED');
      expect(await rejectionOf(logger.logEvent('later'))).to.be.instanceOf(LoggerClosedError);
      expect(() => logger.addSink(new MemorySink())).to.throw(LoggerClosedError);
      expect(() => logger.use(definePlugin({ name: 'p' }))).to.throw(LoggerClosedError);
      expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['before']);
    });
  });

  describe('bus', () => {
    it('publishes every event, and a throwing handler never breaks logging', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const seen: number[] = [];
      const warnings: string[] = [];
      logger.on('event', () => {
        throw new Error('handler bug');
      });
      logger.on('event', (e) => seen.push(e.seq));
      logger.on('warning', (w) => warnings.push(w.code));
      await logger.logEvent('a');
      await logger.logEvent('b');
      await logger.close();
      expect(seen).to.deep.equal([1, 2]);
      expect(warnings).to.deep.equal(['HANDLER_THREW', 'HANDLER_THREW']);
      expect(readJsonl(dir)).to.have.length(2);
    });

    it('turns an async handler that rejects into a warning instead of an unhandled rejection', async () => {
      const logger = new AuditLogger({ format: 'none' });
      const warnings: string[] = [];
      const unhandled: unknown[] = [];
      const onUnhandled = (reason: unknown): void => void unhandled.push(reason);
      process.on('unhandledRejection', onUnhandled);
      try {
        logger.on('event', async () => {
          throw new Error('async handler bug');
        });
        logger.on('warning', (w) => warnings.push(w.message));
        await logger.logEvent('a');
        await new Promise((resolve) => setImmediate(resolve));
        await new Promise((resolve) => setImmediate(resolve));
      } finally {
        process.off('unhandledRejection', onUnhandled);
      }
      await logger.close();
      expect(unhandled).to.deep.equal([]);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include('async handler bug');
    });

    it('off removes a handler', async () => {
      const logger = new AuditLogger({ format: 'none' });
      const seen: string[] = [];
      const handler = (e: AuditEvent): void => void seen.push(e.action_type);
      logger.on('event', handler);
      await logger.logEvent('a');
      logger.off('event', handler);
      await logger.logEvent('b');
      await logger.close();
      expect(seen).to.deep.equal(['a']);
    });
  });

  describe('plugins and sinks', () => {
    it('a plugin adds sinks, enrichers and redactors, through use() or the plugins option', async () => {
      const dir = tempDir();
      const sink = new MemorySink();
      const plugin = definePlugin({
        name: 'team',
        sinks: [sink],
        enrichers: [(source) => void (source.run_id = 'run-42')],
        redactors: [
          (event) => {
            if ('api_key' in event.details) event.details.api_key = '[REDACTED]';
          },
        ],
      });
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', plugins: [plugin] });
      await logger.logEvent('connect', { api_key: 'sk-secret', host: 'db' });
      await logger.close();
      const [event] = readJsonl(dir);
      expect(event!.source.run_id).to.equal('run-42');
      expect(event!.details).to.deep.equal({ api_key: '[REDACTED]', host: 'db' });
      expect(JSON.stringify(sink.events)).not.to.include('sk-secret');
      expect(sink.events[0]!.hash).to.equal(event!.hash);
    });

    it('a failing enricher is a warning; a failing redactor fails the event and writes nothing', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const warnings: string[] = [];
      logger.on('warning', (w) => warnings.push(w.code));
      logger.use(
        definePlugin({
          name: 'bad-enricher',
          enrichers: [
            () => {
              throw new Error('no git');
            },
          ],
        }),
      );
      await logger.logEvent('a');
      logger.use(
        definePlugin({
          name: 'bad-redactor',
          redactors: [
            () => {
              throw new Error('redactor bug');
            },
          ],
        }),
      );
      const err = await rejectionOf(logger.logEvent('b', { secret: 'x' }));
      await logger.close();
      expect(err.message).to.include('redactor bug');
      expect(err).to.include({ name: 'RedactionError', code: 'REDACTION_FAILED' });
      expect(warnings).to.include('ENRICHER_FAILED');
      expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['a']);
    });

    it('a custom sink is ten lines, and a throwing sink rejects logEvent after the local write', async () => {
      const dir = tempDir();
      const lines: string[] = [];
      const custom = defineSink({ name: 'lines', write: (_event, json) => void lines.push(json) });
      const broken = defineSink({
        name: 'broken',
        write: () => {
          throw new Error('socket closed');
        },
      });
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [custom, broken] });
      const err = await rejectionOf(logger.logEvent('a'));
      await logger.close();
      expect(err.message).to.equal('Sink "broken" failed: socket closed');
      expect(lines).to.have.length(1);
      expect(JSON.parse(lines[0]!)).to.deep.equal(readJsonl(dir)[0]);
    });

    it('rejects with the first of several failures and reports the others on the bus', async () => {
      const failing = (name: string) =>
        defineSink({
          name,
          write: () => {
            throw new Error(`${name} down`);
          },
        });
      const logger = new AuditLogger({ format: 'none', sinks: [failing('one'), failing('two')] });
      const onBus: string[] = [];
      logger.on('error', ({ error, sink }) => onBus.push(`${sink}: ${error.message}`));
      const err = await rejectionOf(logger.logEvent('a'));
      await logger.close();
      expect(err.message).to.equal('Sink "one" failed: one down');
      expect(onBus).to.deep.equal(['two: Sink "two" failed: two down']);
    });

    it('filters by actions, statuses, minimum severity and predicate: only FAILURE and CRITICAL page', async () => {
      const statuses = pipelineStatuses.extend('CRITICAL');
      const pager = new MemorySink({ name: 'pager', filter: { minSeverity: 'FAILURE' } });
      const warnings = new MemorySink({ name: 'warn+', filter: { minSeverity: 'WARNING' } });
      const training = new MemorySink({ name: 'training', filter: { actions: ['train'] } });
      const infoOnly = new MemorySink({ name: 'info', filter: { statuses: ['INFO'] } });
      const bigDrift = new MemorySink({ name: 'drift', filter: { actions: ['drift'], predicate: (e) => Number(e.details.score) > 0.5 } });
      const logger = new AuditLogger({ format: 'none', statuses, sinks: [pager, warnings, training, infoOnly, bigDrift] });
      await logger.logEvent('train', {}, 'INFO');
      await logger.logEvent('drift', { score: 0.2 }, 'WARNING');
      await logger.logEvent('drift', { score: 0.9 }, 'WARNING');
      await logger.logEvent('train', {}, 'FAILURE');
      await logger.logEvent('gpu', {}, 'CRITICAL');
      await logger.close();
      const seqs = (s: MemorySink): number[] => s.events.map((e) => e.seq);
      expect(seqs(pager)).to.deep.equal([4, 5]);
      expect(seqs(warnings)).to.deep.equal([2, 3, 4, 5]);
      expect(seqs(training)).to.deep.equal([1, 4]);
      expect(seqs(infoOnly)).to.deep.equal([1]);
      expect(seqs(bigDrift)).to.deep.equal([3]);
    });

    it('ranks statuses by the scheme a plugin brings, whether the sink came first or later', async () => {
      const critical = definePlugin({ name: 'critical', statuses: pipelineStatuses.extend('CRITICAL') });
      const early = new MemorySink({ name: 'early', filter: { minSeverity: 'FAILURE' } });
      const named = new MemorySink({ name: 'named', filter: { minSeverity: 'CRITICAL' } });
      const logger = new AuditLogger({ format: 'none', sinks: [early, named], plugins: [critical] });
      const late = new MemorySink({ name: 'late', filter: { minSeverity: 'FAILURE' } });
      const viaUse = new AuditLogger({ format: 'none', sinks: [late] }).use(critical);
      for (const l of [logger, viaUse]) {
        await l.logEvent('a', {}, 'FAILURE');
        await l.logEvent('b', {}, 'CRITICAL');
        await l.logEvent('c', {}, 'INFO');
        await l.close();
      }
      expect(early.events.map((e) => e.status)).to.deep.equal(['FAILURE', 'CRITICAL']);
      expect(named.events.map((e) => e.status)).to.deep.equal(['CRITICAL']);
      expect(late.events.map((e) => e.status)).to.deep.equal(['FAILURE', 'CRITICAL']);
      const strict = new AuditLogger({ format: 'none', sinks: [new MemorySink({ filter: { minSeverity: 'WARNING' } })] });
      expect(() => strict.use(definePlugin({ name: 'outcomes', statuses: outcomeStatuses }))).to.throw(InvalidOptionError, /WARNING/);
      expect(strict.statuses).to.equal(pipelineStatuses);
      await strict.close();
    });

    it('fails fast on a minimum severity the scheme does not know', () => {
      const logger = new AuditLogger({ format: 'none' });
      expect(() => logger.addSink(new MemorySink({ name: 'pager', filter: { minSeverity: 'CRITICAL' } })))
        .to.throw(InvalidOptionError)
        .with.property('message')
        .that.includes('CRITICAL');
      void logger.close();
    });
  });

  describe('getLogSummary', () => {
    for (const format of ['json', 'jsonl', 'csv'] as const) {
      it(`counts what is on disk across restarts (${format})`, async () => {
        const dir = tempDir();
        const first = new AuditLogger({ rootLogDir: dir, format, statuses: outcomeStatuses });
        await first.logEvent({ action_type: 'hp_change', details: { lr: 0.1 } });
        await first.logEvent({ action_type: 'tag_add', details: { tag: 'x' } });
        await first.close();
        const second = new AuditLogger({ rootLogDir: dir, format, statuses: outcomeStatuses });
        await second.logEvent({ action_type: 'hp_change', status: 'failed', error: 'bad value' });
        const summary = await second.getLogSummary();
        await second.close();
        expect(summary).to.deep.equal({ total_events: 3, by_action_type: { hp_change: 2, tag_add: 1 }, by_status: { success: 2, failed: 1 } });
      });
    }

    it('counts events in memory with format none, and creates no file', async () => {
      const dir = join(tempDir(), 'never');
      const logger = new AuditLogger({ rootLogDir: dir, format: 'none' });
      await logger.logEvent('a');
      await logger.logEvent('a', {}, 'WARNING');
      expect(await logger.getLogSummary()).to.deep.equal({ total_events: 2, by_action_type: { a: 2 }, by_status: { INFO: 1, WARNING: 1 } });
      await logger.close();
      expect(existsSync(dir)).to.equal(false);
    });
  });
});
