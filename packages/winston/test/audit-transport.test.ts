// AuditTransport with a real winston logger: the field mapping, callbacks after the record, errors, level filtering, drain.
import { expect } from 'chai';
import { once } from 'node:events';
import { AuditLogger, InvalidOptionError, InvalidStatusError, outcomeStatuses, pipelineStatuses, type AuditEvent, type Sink } from '@auditrail/core';
import { AuditTransport } from '@auditrail/winston';
import winston from 'winston';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl } from './helpers';

/** A sink that takes `ms` to acknowledge each event, like a remote store. */
function slowSink(ms: number, seen: number[]): Sink {
  return {
    name: 'slow',
    write: (event: AuditEvent) =>
      new Promise<void>((resolve) =>
        setTimeout(() => {
          seen.push(event.seq);
          resolve();
        }, ms),
      ),
  };
}

function setup(statuses = pipelineStatuses, options: Partial<ConstructorParameters<typeof AuditTransport>[0]> = {}) {
  const dir = tempDir();
  const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', statuses });
  const transport = new AuditTransport({ logger: audit, ...options });
  const logger = winston.createLogger({ level: 'debug', format: winston.format.combine(winston.format.timestamp(), winston.format.json()), transports: [transport] });
  return { dir, audit, transport, logger };
}

describe('AuditTransport', () => {
  it('maps winston lines carrying audit fields to events, and ignores the others', async () => {
    const { dir, audit, transport, logger } = setup();
    logger.info('hp_change', { audit: true, details: { changed_params: { learning_rate: 0.001 } }, actor: 'alice', run: 'r1' });
    logger.warn('drift above threshold', { action: 'Drift detected', feature: 'age', drift_score: 0.8 });
    logger.error('restore failed', { audit: 'checkpoint_restore', error: new Error('file not found'), details: { checkpoint_id: 'ckpt_001' } });
    logger.info('plain application line', { rows: 3 });
    logger.info('hp_change', { audit: false, action: 'hp_change' });
    logger.debug('explicit status', { action: 'pause', status: 'WARNING' });
    await transport.drain();
    await audit.close();
    const events = readJsonl(dir);
    expect(events.map((e) => [e.action_type, e.status])).to.deep.equal([
      ['hp_change', 'INFO'],
      ['Drift detected', 'WARNING'],
      ['checkpoint_restore', 'FAILURE'],
      ['pause', 'WARNING'],
    ]);
    expect(events[0]).to.deep.include({ actor: 'alice', details: { changed_params: { learning_rate: 0.001 }, run: 'r1' } });
    expect(events[1]!.details).to.deep.equal({ drift_score: 0.8, feature: 'age', message: 'drift above threshold' });
    expect(events[2]).to.deep.include({ error: 'Error: file not found', details: { checkpoint_id: 'ckpt_001', message: 'restore failed' } });
  });

  it('records the other lines too with others: "record", status from the level', async () => {
    const { dir, audit, transport, logger } = setup(outcomeStatuses, { others: 'record' });
    logger.info('Model Training started');
    logger.error('Model training failed', { error: 'Out of memory' });
    logger.info({ message: '', epoch: 3 });
    await transport.drain();
    await audit.close();
    expect(readJsonl(dir).map((e) => [e.action_type, e.status, e.error])).to.deep.equal([
      ['Model Training started', 'success', null],
      ['Model training failed', 'failed', 'Out of memory'],
      ['log', 'success', null],
    ]);
  });

  it('calls winston back only once the AuditLogger has recorded the event', async () => {
    const dir = tempDir();
    const seen: number[] = [];
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [slowSink(20, seen)] });
    const transport = new AuditTransport({ logger: audit });
    const called: number[] = [];
    const info = { level: 'info', message: 'pause', audit: true, [Symbol.for('level')]: 'info' };
    transport.log(info, () => called.push(seen.length));
    expect(called).to.deep.equal([]); // not synchronously
    await once(transport, 'logged');
    expect(called).to.deep.equal([1]); // after the slow sink had the event
    await audit.close();
  });

  it('emits a refused event as an error on the transport and the logger, and keeps recording afterwards', async () => {
    const { dir, audit, transport, logger } = setup(outcomeStatuses);
    const errors: unknown[] = [];
    logger.on('error', (err: unknown) => errors.push(err));
    logger.info('hp_change', { audit: true, status: 'INFO' }); // not an outcome status
    logger.info('resume', { audit: true });
    await transport.drain();
    logger.info('pause', { audit: true });
    await transport.drain();
    await audit.close();
    expect(errors).to.have.length(1);
    expect(errors[0]).to.be.instanceOf(InvalidStatusError);
    expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['resume', 'pause']);
  });

  it("keeps the winston logger's level after an error has made winston pipe the transport again", async () => {
    const dir = tempDir();
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', statuses: outcomeStatuses });
    const transport = new AuditTransport({ logger: audit });
    const logger = winston.createLogger({ level: 'info', transports: [transport] });
    logger.on('error', () => undefined);
    logger.info('bad', { audit: true, status: 'WARNING' });
    await transport.drain();
    logger.debug('below the level', { audit: true });
    logger.info('resume', { audit: true });
    await transport.drain();
    await audit.close();
    expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['resume']);
  });

  it("honours the transport's level and format like any winston transport", async () => {
    const dir = tempDir();
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    const tagged = winston.format((info) => ({ ...info, host_group: 'gpu' }))();
    const transport = new AuditTransport({ logger: audit, level: 'warn', format: tagged });
    const logger = winston.createLogger({ level: 'debug', transports: [transport] });
    logger.info('ignored by level', { audit: true });
    logger.warn('Drift detected', { audit: true });
    await transport.drain();
    await audit.close();
    const events = readJsonl(dir);
    expect(events.map((e) => e.action_type)).to.deep.equal(['Drift detected']);
    expect(events[0]!.details).to.deep.equal({ host_group: 'gpu' });
  });

  it('drain() waits for every line still buffered in winston, however slow the audit log', async () => {
    const dir = tempDir();
    const seen: number[] = [];
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [slowSink(0, seen)] });
    const transport = new AuditTransport({ logger: audit });
    const logger = winston.createLogger({ transports: [transport] });
    for (let i = 0; i < 300; i++) logger.info('tag_add', { audit: true, details: { i } });
    await transport.drain();
    expect(readJsonl(dir)).to.have.length(300);
    expect(seen).to.have.length(300);
    await audit.close();
    expect(readJsonl(dir).map((e) => (e.details as { i: number }).i)).to.deep.equal([...Array(300).keys()]);
  });

  it('flushes the AuditLogger before the transport finishes when winston ends', async () => {
    const { dir, audit, transport, logger } = setup();
    logger.info('evaluation_start', { audit: true, details: { split: 'val' } });
    await transport.drain();
    const finished = once(transport, 'finish');
    logger.end();
    await finished;
    expect(readJsonl(dir)).to.have.length(1);
    await audit.close();
  });

  it('refuses bad options', () => {
    expect(() => new AuditTransport({} as never)).to.throw(InvalidOptionError, /"logger"/);
    const audit = new AuditLogger({ format: 'none' });
    expect(() => new AuditTransport({ logger: audit, others: 'all' as never })).to.throw(InvalidOptionError, /"others"/);
    expect(() => new AuditTransport({ logger: audit, others: 'all' as never })).to.throw(InvalidOptionError, 'Invalid option "others": "all" is not one of "ignore", "record"');
  });

  it('refuses a misspelled option name (winston\'s transport options included), naming the option meant; other unknown names are left alone', () => {
    const audit = new AuditLogger({ format: 'none' });
    const misspelled: [Record<string, unknown>, string, string][] = [
      [{ levelStatus: { error: 'FAILURE' } }, 'levelStatus', 'levelStatuses'], // would have recorded errors at the default status
      [{ timeout: 60_000 }, 'timeout', 'timeoutMs'],
      [{ handleException: true }, 'handleException', 'handleExceptions'], // winston's own, just as silently ignored
    ];
    for (const [options, name, meant] of misspelled) {
      expect(() => new AuditTransport({ logger: audit, ...options } as never), name).to.throw(InvalidOptionError, `Invalid option "${name}": is not an option; did you mean "${meant}"?`);
    }
    // Checked first: a misspelling is named even next to an option that is bad in another way.
    expect(() => new AuditTransport({ logger: audit, others: 'all', timeout: 5 } as never)).to.throw(InvalidOptionError, '"timeout"');
    const transport = new AuditTransport({ logger: audit, level: 'warn', team: 'ml-platform' } as never);
    expect(transport.level).to.equal('warn');
    void audit.close();
  });

  it("refuses a levelStatuses value outside the logger's status scheme, naming the level", () => {
    const audit = new AuditLogger({ format: 'none', statuses: outcomeStatuses });
    expect(() => new AuditTransport({ logger: audit, levelStatuses: { error: 'ERROR' } }))
      .to.throw(InvalidOptionError, /"levelStatuses\.error": "ERROR" is not a status of scheme "outcome"/)
      .with.property('option', 'levelStatuses.error');
    expect(() => new AuditTransport({ logger: audit, levelStatuses: { warn: 3 as never } })).to.throw(InvalidOptionError, /"levelStatuses\.warn"/);
    expect(() => new AuditTransport({ logger: audit, levelStatuses: 'failed' as never })).to.throw(InvalidOptionError, /"levelStatuses"/);
    expect(() => new AuditTransport({ logger: audit, levelStatuses: { error: 'failed', http: 'success' } })).not.to.throw();
  });

  it('refuses a timeoutMs that is not a number of milliseconds a timer takes', () => {
    const audit = new AuditLogger({ format: 'none' });
    for (const timeoutMs of [0, -1, NaN, Infinity, 3e9, '100' as never]) {
      expect(() => new AuditTransport({ logger: audit, timeoutMs }), String(timeoutMs)).to.throw(InvalidOptionError, /"timeoutMs"/);
    }
  });

  it('refuses a format factory passed uncalled, which would fail every line', () => {
    const audit = new AuditLogger({ format: 'none' });
    expect(() => new AuditTransport({ logger: audit, format: winston.format.json as never })).to.throw(InvalidOptionError, /"format".*did you mean winston\.format\.json\(\)/);
  });

  it("refuses a level the winston logger's level table lacks when winston adds the transport (it would filter out every line)", () => {
    const audit = new AuditLogger({ format: 'none' });
    const transport = new AuditTransport({ logger: audit, level: 'warning' });
    expect(() => winston.createLogger({ transports: [transport] })).to.throw(InvalidOptionError, /"level": "warning" is not a level/);
    expect(() => winston.createLogger({ levels: winston.config.syslog.levels, transports: [new AuditTransport({ logger: audit, level: 'warning' })] })).not.to.throw();
  });

  it('leaves no half-added transport in a winston logger whose levels it refused, and can be added to another logger then', async () => {
    const dir = tempDir();
    const audit = new AuditLogger({ rootLogDir: dir, format: 'jsonl', statuses: pipelineStatuses });
    const transport = new AuditTransport({ logger: audit, level: 'warning' });
    const npm = winston.createLogger();
    expect(() => npm.add(transport)).to.throw(InvalidOptionError, /"level": "warning" is not a level/);
    expect(npm.transports).to.deep.equal([]);
    expect(transport.listenerCount('error')).to.equal(0); // winston's listener would add the transport back on an error
    expect((transport as unknown as { levels?: unknown }).levels).to.equal(undefined);

    const syslog = winston.createLogger({ levels: winston.config.syslog.levels, transports: [transport] });
    expect(syslog.transports).to.deep.equal([transport]);
    syslog.info('too_low', { audit: true }); // below 'warning': filtered by syslog's table, not npm's
    syslog.warning('hp_change', { audit: true });
    syslog.error('run_failed', { audit: true });
    await transport.drain();
    expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['hp_change', 'run_failed']);
    await audit.close();
  });
});
