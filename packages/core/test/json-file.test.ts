// audit_log.json: a JSON array that parses after every call, oldest-first (in-place append) or newest-first (atomic rename).
import { expect } from 'chai';
import { appendFileSync, closeSync, lstatSync, mkdirSync, openSync, readFileSync, readdirSync, symlinkSync, truncateSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, readEvents, verifyAuditLog, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonArray } from './helpers';

async function collect(dir: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for await (const e of readEvents(dir)) out.push(e);
  return out;
}

describe('JSON array file', () => {
  it('parses as an array after every call (oldest-first), appending in place', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir });
    const path = join(dir, 'audit_log.json');
    expect(JSON.parse(readFileSync(path, 'utf8'))).to.deep.equal([]);
    const inode = statSync(path).ino;
    for (let i = 1; i <= 30; i++) {
      await logger.logEvent('step', { i });
      const events = readJsonArray(dir);
      expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: i }, (_, k) => k + 1));
    }
    await logger.close();
    expect(statSync(path).ino).to.equal(inode); // never rewritten
  });

  it('newest-first keeps the first seed order, parses after every call, and survives a restart', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    for (let i = 1; i <= 5; i++) {
      await logger.logEvent('step', { i });
      expect(readJsonArray(dir).map((e) => e.seq)).to.deep.equal(Array.from({ length: i }, (_, k) => i - k));
    }
    await logger.close();
    logger = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    await logger.logEvent('after restart');
    await logger.close();
    const events = readJsonArray(dir);
    expect(events.map((e) => e.seq)).to.deep.equal([6, 5, 4, 3, 2, 1]);
    expect(events[0]!.prev_hash).to.equal(events[1]!.hash);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
    expect((await collect(dir)).map((e) => e.seq)).to.deep.equal([6, 5, 4, 3, 2, 1]);
  });

  it('appends to a pretty-printed array written by another tool (the first seed file)', async () => {
    const dir = tempDir();
    const seed = [
      { timestamp: '2026-05-27T14:30:00.123456Z', action_type: 'hp_change', status: 'success', details: { changed_params: { learning_rate: 0.001 } }, error: null },
    ];
    writeFileSync(join(dir, 'audit_log.json'), JSON.stringify(seed, null, 2), { mode: 0o600 });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent({ action_type: 'tag_add', details: { tag_name: 'defect' } });
    await logger.close();
    const events = readJsonArray(dir);
    expect(events.map((e) => e.action_type)).to.deep.equal(['hp_change', 'tag_add']);
    expect(events[1]!.seq).to.equal(2);
    const summary = await new AuditLogger({ rootLogDir: dir, format: 'json' }).getLogSummary();
    expect(summary.total_events).to.equal(2);
  });

  it('prepends (newest-first) to a compact or pretty-printed array written by another tool', async () => {
    for (const text of ['[{"action_type":"old","status":"INFO"}]', '[\n  {\n    "action_type": "old",\n    "status": "INFO"\n  }\n]', '[]']) {
      const dir = tempDir();
      writeFileSync(join(dir, 'audit_log.json'), text, { mode: 0o600 });
      const logger = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
      await logger.logEvent('new one');
      await logger.logEvent('newer');
      await logger.close();
      const expected = text === '[]' ? ['newer', 'new one'] : ['newer', 'new one', 'old'];
      expect(readJsonArray(dir).map((e) => e.action_type), text).to.deep.equal(expected);
    }
  });

  it('refuses a file kept in the other order, naming the order to pass', async () => {
    const dir = tempDir();
    const first = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    await first.logEvent('a', { big: 'x'.repeat(10_000) });
    await first.logEvent('b');
    await first.close();
    const wrong = new AuditLogger({ rootLogDir: dir, format: 'json' });
    const err = await wrong.logEvent('c').then(
      () => undefined,
      (e: Error) => e,
    );
    await wrong.close();
    expect(err?.message).to.include("pass order: 'newest-first'");
    const right = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    expect((await right.logEvent('c')).seq).to.equal(3);
    await right.close();
    expect(readJsonArray(dir).map((e) => e.seq)).to.deep.equal([3, 2, 1]);
  });

  it('refuses an oldest-first file (with its reserve) to a newest-first logger, naming the order to pass', async () => {
    const dir = tempDir();
    const first = new AuditLogger({ rootLogDir: dir, format: 'json' });
    for (const action of ['a', 'b', 'c']) await first.logEvent(action);
    await first.close();
    const wrong = new AuditLogger({ rootLogDir: dir, format: 'json', order: 'newest-first' });
    const err = await wrong.logEvent('d').then(
      () => undefined,
      (e: Error) => e,
    );
    await wrong.close();
    expect(err?.message).to.include("pass order: 'oldest-first'");
    expect(readJsonArray(dir).map((e) => e.seq)).to.deep.equal([1, 2, 3]);
  });

  it('repairs an array torn by a power loss: keeps whole events, moves the fragment to .torn', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('a');
    await logger.logEvent('b');
    await logger.close();
    const path = join(dir, 'audit_log.json');
    const whole = readFileSync(path, 'utf8');
    // Cut inside the second event, as a lost page would.
    truncateSync(path, whole.indexOf('"action_type":"b"'));
    logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(w.code));
    const c = await logger.logEvent('c');
    await logger.close();
    expect(c.seq).to.equal(2);
    expect(readJsonArray(dir).map((e) => e.action_type)).to.deep.equal(['a', 'c']);
    expect(readFileSync(path + '.torn', 'utf8')).to.include('"seq":2');
  });

  it('writes events into whitespace reserved before "]", regrowing it by a copy renamed into place', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    let inode = statSync(path).ino;
    let regrowths = 0;
    for (let i = 1; i <= 300; i++) {
      await logger.logEvent('step', { i, pad: 'p'.repeat((i * 331) % 3200) });
      const text = readFileSync(path, 'utf8');
      expect((JSON.parse(text) as AuditEvent[]).map((e) => e.seq)).to.deep.equal(Array.from({ length: i }, (_, k) => k + 1));
      expect(text.length % 4096, 'the file ends on a page boundary').to.equal(0);
      expect(text.endsWith('\n]\n')).to.equal(true);
      if (statSync(path).ino !== inode) regrowths++;
      inode = statSync(path).ino;
    }
    await logger.close();
    expect(regrowths).to.be.within(2, 40); // the reserve grows with the file: a copy now and then, not per event
    const text = readFileSync(path, 'utf8');
    const reserve = text.slice(text.lastIndexOf('}') + 1, -3);
    expect(reserve.trim()).to.equal('');
    expect(reserve.length).to.be.at.least(4096);
    expect(readdirSync(dir).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
  });

  it('finds the end of its events after a restart, however long the reserve and however many spaces an event holds', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('spacious', { text: 'a' + ' '.repeat(9000) + 'b' });
    await logger.logEvent('small');
    await logger.close();
    for (let run = 0; run < 3; run++) {
      logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
      await logger.logEvent('after restart', { run, text: ' '.repeat(5000) });
      await logger.close();
    }
    const events = readJsonArray(dir);
    expect(events.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(events[0]!.details).to.deep.equal({ text: 'a' + ' '.repeat(9000) + 'b' });
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('appends to a file in the layout of earlier versions (no reserve), keeping the chain', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    for (let i = 0; i < 3; i++) await logger.logEvent('before', { i });
    await logger.close();
    const path = join(dir, 'audit_log.json');
    writeFileSync(path, '[\n' + readJsonArray(dir).map((e) => JSON.stringify(e)).join(',\n') + '\n]\n');
    logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('after');
    await logger.close();
    expect(readJsonArray(dir).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('gives a record torn inside the reserve back to it, keeping the fragment in .torn', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('a');
    await logger.logEvent('b');
    await logger.close();
    const path = join(dir, 'audit_log.json');
    const end = readFileSync(path).lastIndexOf('}') + 1;
    const fd = openSync(path, 'r+');
    writeSync(fd, ',\n{"id":"0193-torn","seq":3,"timestamp":"20', end); // what a write cut short would leave
    closeSync(fd);
    expect(() => readJsonArray(dir)).to.throw(SyntaxError);
    logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(w.code));
    const c = await logger.logEvent('c');
    await logger.close();
    expect(c.seq).to.equal(3);
    expect(warnings).to.include('TORN_ARRAY_REPAIRED');
    expect(readJsonArray(dir).map((e) => e.action_type)).to.deep.equal(['a', 'b', 'c']);
    expect(readFileSync(path + '.torn', 'utf8')).to.equal('{"id":"0193-torn","seq":3,"timestamp":"20\n');
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('cuts a lone comma a failed write left after the last event, instead of writing a second one', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('a');
    await logger.close();
    const path = join(dir, 'audit_log.json');
    const fd = openSync(path, 'r+');
    writeSync(fd, ',\n', readFileSync(path).lastIndexOf('}') + 1);
    closeSync(fd);
    logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    await logger.logEvent('b');
    await logger.close();
    expect(readJsonArray(dir).map((e) => e.action_type)).to.deep.equal(['a', 'b']);
  });

  it('regrows through a symbolic link (allowSymlink) without replacing the link', async () => {
    const dir = tempDir();
    const elsewhere = join(tempDir(), 'kept');
    mkdirSync(elsewhere);
    writeFileSync(join(elsewhere, 'audit.json'), '[]', { mode: 0o600 });
    writeFileSync(join(elsewhere, 'audit.json.tmp-left-by-a-crash'), '[');
    symlinkSync(join(elsewhere, 'audit.json'), join(dir, 'audit_log.json'));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', allowSymlink: true });
    for (let i = 0; i < 60; i++) await logger.logEvent('step', { i, pad: 'p'.repeat(900) });
    await logger.logEvent('large', { pad: 'p'.repeat(6000) });
    await logger.close();
    expect(lstatSync(join(dir, 'audit_log.json')).isSymbolicLink()).to.equal(true);
    expect(readJsonArray(dir)).to.have.length(61);
    expect(readdirSync(elsewhere).filter((f) => f.includes('.tmp-'))).to.deep.equal([]);
  });

  it('refuses a file that is not a JSON array rather than overwrite it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.json'), 'hello, this is not json\n');
    appendFileSync(join(dir, 'audit_log.json'), 'at all\n');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json' });
    const err = await logger.logEvent('a').then(
      () => undefined,
      (e: Error) => e,
    );
    await logger.close().catch(() => undefined);
    expect(err?.name).to.equal('AuditWriteError');
    expect(readFileSync(join(dir, 'audit_log.json'), 'utf8')).to.equal('hello, this is not json\nat all\n');
  });
});
