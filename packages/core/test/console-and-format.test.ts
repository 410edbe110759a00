// The console sink (readable line or JSON, colour only on a TTY without NO_COLOR) and AUDIT_LOG_FORMAT resolution.
import { expect } from 'chai';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { AuditLogger, ConsoleSink, InvalidOptionError, pipelineStatuses, resolveFormats } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

/** A stream that collects what is written, posing as a TTY or not. */
function capture(isTTY: boolean): { stream: PassThrough & { isTTY?: boolean }; text: () => string } {
  const stream = new PassThrough() as PassThrough & { isTTY?: boolean };
  stream.isTTY = isTTY;
  const chunks: string[] = [];
  stream.on('data', (d: Buffer) => chunks.push(d.toString()));
  return { stream, text: () => chunks.join('') };
}

/** Runs `fn` with NO_COLOR set to `value` (or unset), restoring it after. */
function withNoColor<T>(value: string | undefined, fn: () => T): T {
  const saved = process.env.NO_COLOR;
  if (value === undefined) delete process.env.NO_COLOR;
  else process.env.NO_COLOR = value;
  try {
    return fn();
  } finally {
    if (saved === undefined) delete process.env.NO_COLOR;
    else process.env.NO_COLOR = saved;
  }
}

const ESC = '\x1b[';

describe('console sink', () => {
  it('prints one readable line per event, without colour when not a TTY', async () => {
    const out = capture(false);
    const logger = new AuditLogger({ format: 'none', sinks: [withNoColor(undefined, () => new ConsoleSink({ stream: out.stream }))] });
    await logger.logEvent('Drift detected', { feature: 'age', drift_score: 0.8 }, 'WARNING');
    await logger.logEvent({ action: 'Model training failed', status: 'FAILURE', error: 'Out of memory', actor: 'ci' });
    await logger.close();
    const lines = out.text().split('\n');
    expect(lines).to.have.length(3);
    expect(lines[0]).to.match(/^\d{4}-\d\d-\d\dT[\d:.]{15}Z WARNING Drift detected \{"drift_score":0\.8,"feature":"age"\}$/);
    expect(lines[1]).to.match(/ FAILURE Model training failed actor=ci error="Out of memory"$/);
    expect(out.text()).not.to.include(ESC);
  });

  it('colours by severity on a TTY', async () => {
    const out = capture(true);
    const logger = new AuditLogger({ format: 'none', statuses: pipelineStatuses.extend('CRITICAL') });
    logger.addSink(withNoColor(undefined, () => new ConsoleSink({ stream: out.stream })));
    await logger.logEvent('a', {}, 'INFO');
    await logger.logEvent('b', {}, 'CRITICAL');
    await logger.close();
    const [info, critical] = out.text().split('\n');
    expect(info).to.include(`${ESC}32mINFO`);
    expect(critical).to.include(`${ESC}1;35mCRITICAL`);
  });

  it('colours by the scheme in force, also when a plugin brings it after the sink', async () => {
    const out = capture(true);
    const logger = new AuditLogger({ format: 'none' });
    logger.addSink(withNoColor(undefined, () => new ConsoleSink({ stream: out.stream })));
    logger.use({ name: 'critical', statuses: pipelineStatuses.extend('CRITICAL') });
    await logger.logEvent('b', {}, 'CRITICAL');
    await logger.close();
    expect(out.text()).to.include(`${ESC}1;35mCRITICAL`);
  });

  it('never colours with NO_COLOR set, even on a TTY', async () => {
    const out = capture(true);
    const sink = withNoColor('1', () => new ConsoleSink({ stream: out.stream }));
    const logger = new AuditLogger({ format: 'none', sinks: [sink] });
    await logger.logEvent('a', {}, 'FAILURE');
    await logger.close();
    expect(out.text()).to.include('FAILURE').and.not.include(ESC);
  });

  it('prints JSON lines identical to the JSONL file with style json', async () => {
    const dir = tempDir();
    const out = capture(true);
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [new ConsoleSink({ stream: out.stream, style: 'json' })] });
    const event = await logger.logEvent('a', { x: [1, 2] });
    await logger.close();
    expect(JSON.parse(out.text())).to.deep.equal(event);
    expect(out.text()).not.to.include(ESC);
  });

  it('refuses a bad style or colour, a stream that cannot be written, and a misspelled option name', () => {
    const bad: [unknown, string][] = [
      [{ style: 'jsn' }, 'Invalid option "style": "jsn" is not one of "pretty", "json"'],
      [{ color: 'no' }, 'Invalid option "color": "no" is not true or false'],
      [{ stream: {} }, 'Invalid option "stream": must be a writable stream'],
      [{ colour: false }, 'Invalid option "colour": is not an option; did you mean "color"?'],
      [{ styles: 'json' }, 'Invalid option "styles": is not an option; did you mean "style"?'],
      [null, 'Invalid option "options": must be an object, got null'],
    ];
    for (const [options, message] of bad) expect(() => new ConsoleSink(options as ConstructorParameters<typeof ConsoleSink>[0]), message).to.throw(InvalidOptionError, message);
    expect(new ConsoleSink({ style: 'json', color: false }).name).to.equal('console');
  });
});

describe('AUDIT_LOG_FORMAT', () => {
  let saved: string | undefined;
  beforeEach(() => (saved = process.env.AUDIT_LOG_FORMAT));
  afterEach(() => {
    if (saved === undefined) delete process.env.AUDIT_LOG_FORMAT;
    else process.env.AUDIT_LOG_FORMAT = saved;
  });

  const files = (dir: string): string[] => readdirSync(dir).filter((f) => /^audit_log\.(json|jsonl|csv)$/.test(f)).sort();

  it('defaults to json: only audit_log.json is created', async () => {
    delete process.env.AUDIT_LOG_FORMAT;
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir });
    await logger.logEvent('a');
    await logger.close();
    expect(files(dir)).to.deep.equal(['audit_log.json']);
  });

  it('takes the variable when no option is given, ignoring case and spaces, with comma lists', async () => {
    const dir = tempDir();
    process.env.AUDIT_LOG_FORMAT = ' CSV , JsonL ';
    const logger = new AuditLogger({ rootLogDir: dir });
    await logger.logEvent('a');
    await logger.close();
    expect(files(dir)).to.deep.equal(['audit_log.csv', 'audit_log.jsonl']);
    expect(logger.files.map((f) => f.slice(dir.length + 1))).to.deep.equal(['audit_log.csv', 'audit_log.jsonl']);
  });

  it('lets the explicit option win over the variable, parsed the same way', async () => {
    const dir = tempDir();
    process.env.AUDIT_LOG_FORMAT = 'csv';
    const logger = new AuditLogger({ rootLogDir: dir, format: ' JSONL ' as 'jsonl' });
    await logger.logEvent('a');
    await logger.close();
    expect(files(dir)).to.deep.equal(['audit_log.jsonl']);
    expect(resolveFormats(['JSON', ' csv'] as never, 'jsonl')).to.deep.equal(['json', 'csv']);
    expect(resolveFormats('json,json', undefined)).to.deep.equal(['json']);
  });

  it('none creates no file and no directory', async () => {
    const dir = join(tempDir(), 'logs');
    process.env.AUDIT_LOG_FORMAT = 'None';
    const logger = new AuditLogger({ rootLogDir: dir });
    await logger.logEvent('a');
    await logger.flush();
    await logger.close();
    expect(existsSync(dir)).to.equal(false);
    expect(logger.files).to.deep.equal([]);
  });

  it('an unknown value is a clear error at construction, never a silent fallback', () => {
    const dir = join(tempDir(), 'logs');
    process.env.AUDIT_LOG_FORMAT = 'jsn';
    expect(() => new AuditLogger({ rootLogDir: dir }))
      .to.throw(InvalidOptionError)
      .with.property('message')
      .that.includes('AUDIT_LOG_FORMAT')
      .and.includes('"jsn"')
      .and.includes('"json", "jsonl", "csv", "none"');
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'xml' as 'json' })).to.throw(InvalidOptionError, /Invalid option "format": unknown format "xml"/);
    expect(() => new AuditLogger({ rootLogDir: dir, format: ['json', 'none'] })).to.throw(InvalidOptionError, /"none" cannot be combined/);
    process.env.AUDIT_LOG_FORMAT = 'json,,csv';
    expect(() => new AuditLogger({ rootLogDir: dir })).to.throw(InvalidOptionError, /empty entry/);
    expect(existsSync(dir)).to.equal(false);
  });

  it('an empty variable means unset', async () => {
    process.env.AUDIT_LOG_FORMAT = '  ';
    expect(resolveFormats(undefined)).to.deep.equal(['json']);
  });
});
