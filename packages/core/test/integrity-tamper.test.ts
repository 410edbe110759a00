// The tamper matrix: each kind of change to a real log is detected, named, and located at the right event.
import { expect } from 'chai';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, computeHash, GENESIS_HASH, verifyAuditLog, writeSigningKeys, type AuditEvent, type LogFormat, type VerifyOptions } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

const KEY = 'test-hmac-key-0123456789';

interface Written {
  dir: string;
  publicKey: string;
}

/** A log of `count` events, in the formats given, with checkpoints every 4 events. */
async function writeLog(count: number, formats: Exclude<LogFormat, 'none'>[] = ['jsonl'], extra: { hmacKey?: string; order?: 'oldest-first' | 'newest-first' } = {}): Promise<Written> {
  const dir = tempDir();
  const keys = writeSigningKeys(join(dir, 'keys'));
  const logger = new AuditLogger({ rootLogDir: dir, format: formats, checkpoints: { privateKey: keys.privateKeyPath, every: 4 }, ...extra });
  for (let i = 1; i <= count; i++) await logger.logEvent('train_step', { step: i, note: `note-${i}`, nested: { ok: true } }, i % 3 === 0 ? 'WARNING' : 'INFO');
  await logger.close();
  return { dir, publicKey: keys.publicKeyPath };
}

function lines(dir: string, file = 'audit_log.jsonl'): string[] {
  return readFileSync(join(dir, file), 'utf8').trimEnd().split('\n');
}

function save(dir: string, content: string[], file = 'audit_log.jsonl'): void {
  writeFileSync(join(dir, file), content.join('\n') + '\n');
}

async function verify(log: Written, options: VerifyOptions = {}) {
  return verifyAuditLog(log.dir, { publicKey: log.publicKey, ...options });
}

/** A forged event that follows `previous` with a correct plain SHA-256 hash (what a forger without the key can make). */
function forgeAfter(previous: AuditEvent, key?: string): AuditEvent {
  const forged: Omit<AuditEvent, 'hash'> = { ...previous, id: '01000000-0000-7000-8000-000000000000', seq: previous.seq + 1, prev_hash: previous.hash, details: { forged: true } };
  return { ...forged, hash: computeHash(forged, key) };
}

describe('verify: the tamper matrix', () => {
  it('reports an intact log with its event count and the last checkpoint verified', async () => {
    const log = await writeLog(10, ['jsonl', 'json', 'csv']);
    const report = await verify(log);
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs.map((l) => [l.format, l.events, l.ok])).to.deep.equal([
      ['jsonl', 10, true],
      ['json', 10, true],
      ['csv', 10, true],
    ]);
    expect(report.checkpoints?.signaturesVerified).to.equal(true);
    expect(report.checkpoints?.last?.seq).to.equal(10);
    expect(report.checkpoints?.last?.reason).to.equal('close');
  });

  it('one byte changed in details: modified, at that event', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    content[4] = content[4]!.replace('note-5', 'note-6');
    save(log.dir, content);
    const { ok, problem } = await verify(log);
    expect(ok).to.equal(false);
    expect(problem).to.include({ kind: 'modified', position: 5, seq: 5, line: 5 });
    expect(problem?.id).to.be.a('string');
  });

  it('a status changed: modified, at that event', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    content[2] = content[2]!.replace('"status":"WARNING"', '"status":"INFO"');
    save(log.dir, content);
    expect((await verify(log)).problem).to.include({ kind: 'modified', position: 3, seq: 3 });
  });

  it('a status changed and its hash recomputed (no key): modified, at that event, found through its successor', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    const event = JSON.parse(content[2]!) as AuditEvent;
    const changed = { ...event, status: 'INFO' };
    content[2] = JSON.stringify({ ...changed, hash: computeHash(changed) });
    save(log.dir, content);
    expect((await verify(log)).problem).to.include({ kind: 'modified', position: 3, seq: 3 });
  });

  it('an event deleted: deleted, at the event after the gap', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    content.splice(5, 1); // seq 6
    save(log.dir, content);
    const { problem } = await verify(log);
    expect(problem).to.include({ kind: 'deleted', position: 6, seq: 7 });
    expect(problem?.message).to.include('seq 6');
  });

  it('the first event deleted: deleted, at position 1', async () => {
    const log = await writeLog(10);
    save(log.dir, lines(log.dir).slice(1));
    expect((await verify(log)).problem).to.include({ kind: 'deleted', position: 1, seq: 2 });
  });

  it('a forged event inserted with a valid plain hash: inserted, at the forged event', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    const forged = forgeAfter(JSON.parse(content[3]!) as AuditEvent);
    content.splice(4, 0, JSON.stringify(forged));
    save(log.dir, content);
    expect((await verify(log)).problem).to.include({ kind: 'inserted', position: 5, id: forged.id });
  });

  it('a forged event inserted into a keyed chain: inserted, at the forged event', async () => {
    const log = await writeLog(10, ['jsonl'], { hmacKey: KEY });
    const content = lines(log.dir);
    const forged = forgeAfter(JSON.parse(content[3]!) as AuditEvent);
    content.splice(4, 0, JSON.stringify(forged));
    save(log.dir, content);
    expect((await verify(log, { hmacKey: KEY })).problem).to.include({ kind: 'inserted', position: 5, id: forged.id });
  });

  it('two events swapped: reordered, at the first of them', async () => {
    const log = await writeLog(10);
    const content = lines(log.dir);
    [content[6], content[7]] = [content[7]!, content[6]!];
    save(log.dir, content);
    const { problem } = await verify(log);
    expect(problem).to.include({ kind: 'reordered', position: 7, seq: 8 });
    expect(problem?.message).to.include('seq 7 was expected here and is at position 8');
  });

  it('the tail truncated: truncated, after the last event left, naming the checkpoint', async () => {
    const log = await writeLog(10);
    save(log.dir, lines(log.dir).slice(0, 7));
    const { problem } = await verify(log);
    expect(problem).to.include({ kind: 'truncated', position: 8 });
    expect(problem?.message).to.include('ends at seq 7').and.include('signs seq 10');
  });

  it('the whole file rewritten with a recomputed plain SHA-256 chain while a key is set: unkeyed, at position 1', async () => {
    const log = await writeLog(10, ['jsonl'], { hmacKey: KEY });
    let prev = GENESIS_HASH;
    const rewritten = lines(log.dir).map((line) => {
      const event = JSON.parse(line) as AuditEvent;
      const changed = { ...event, status: 'INFO', prev_hash: prev };
      const hash = computeHash(changed);
      prev = hash;
      return JSON.stringify({ ...changed, hash });
    });
    save(log.dir, rewritten);
    const { problem } = await verify(log, { hmacKey: KEY, checkpoints: false });
    expect(problem).to.include({ kind: 'unkeyed', position: 1, seq: 1 });
  });

  it('the same keyed log verifies with its key, and without it names the first event with a hint', async () => {
    const log = await writeLog(5, ['jsonl'], { hmacKey: KEY });
    expect((await verify(log, { hmacKey: KEY })).ok).to.equal(true);
    const { problem } = await verify(log, { hmacKey: undefined });
    expect(problem).to.include({ kind: 'modified', position: 1 });
    expect(problem?.message).to.include('HMAC-keyed');
  });

  it('a checkpoint removed from the middle: missing-checkpoint, at the checkpoint after it', async () => {
    const log = await writeLog(10);
    const checkpoints = lines(log.dir, 'audit_log.checkpoints.jsonl');
    expect(checkpoints).to.have.length(3); // seq 4, 8, and 10 on close
    checkpoints.splice(1, 1);
    save(log.dir, checkpoints, 'audit_log.checkpoints.jsonl');
    const { problem } = await verify(log);
    expect(problem).to.include({ kind: 'missing-checkpoint', position: 2, line: 2 });
  });

  it('a checkpoint missed by a crashed writer is signed late by the next one, as recovery, and verify warns instead of failing', async () => {
    const dir = tempDir();
    const keys = writeSigningKeys(join(dir, 'keys'));
    const options = { rootLogDir: dir, format: 'jsonl' as const, checkpoints: { privateKey: keys.privateKeyPath, every: 5 } };
    const a = new AuditLogger(options);
    const b = new AuditLogger(options);
    for (let i = 0; i < 10; i++) await a.logEvent('a', { i });
    // As if a had crashed between event 10 and its checkpoint.
    save(dir, lines(dir, 'audit_log.checkpoints.jsonl').slice(0, 1), 'audit_log.checkpoints.jsonl');
    for (let i = 0; i < 5; i++) await b.logEvent('b', { i });
    await a.close();
    await b.close();
    const checkpoints = lines(dir, 'audit_log.checkpoints.jsonl').map((line) => JSON.parse(line) as { seq: number; reason: string });
    expect(checkpoints.map((c) => [c.seq, c.reason])).to.deep.equal([
      [5, 'interval'],
      [15, 'recovery'],
    ]);
    const report = await verifyAuditLog(dir, { publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.warnings.join('\n')).to.include('checkpoint #2 (seq 15) was signed after an earlier due checkpoint was found missing');
  });

  it('a torn last checkpoint line (power loss) is moved aside and signing goes on', async () => {
    const dir = tempDir();
    const keys = writeSigningKeys(join(dir, 'keys'));
    const options = { rootLogDir: dir, format: 'jsonl' as const, checkpoints: { privateKey: keys.privateKeyPath, every: 5 } };
    const first = new AuditLogger(options);
    for (let i = 0; i < 5; i++) await first.logEvent('a', { i });
    await first.close();
    const text = readFileSync(join(dir, 'audit_log.checkpoints.jsonl'), 'utf8');
    writeFileSync(join(dir, 'audit_log.checkpoints.jsonl'), text + text.slice(0, 40));
    const warnings: string[] = [];
    const second = new AuditLogger(options);
    second.on('warning', ({ code }) => warnings.push(code));
    for (let i = 0; i < 5; i++) await second.logEvent('b', { i });
    await second.close();
    expect(warnings).to.include('TORN_LINE_REPAIRED');
    const report = await verifyAuditLog(dir, { publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.checkpoints?.last?.seq).to.equal(10);
  });

  it('a checkpoint altered: bad-signature; signed by another key: bad-signature', async () => {
    const log = await writeLog(10);
    const checkpoints = lines(log.dir, 'audit_log.checkpoints.jsonl');
    const original = [...checkpoints];
    checkpoints[2] = checkpoints[2]!.replace(/"seq":10/, '"seq":11');
    save(log.dir, checkpoints, 'audit_log.checkpoints.jsonl');
    expect((await verify(log)).problem).to.include({ kind: 'bad-signature', position: 3 });
    save(log.dir, original, 'audit_log.checkpoints.jsonl');
    const other = writeSigningKeys(join(tempDir(), 'other'));
    const { problem } = await verifyAuditLog(log.dir, { publicKey: other.publicKeyPath });
    expect(problem).to.include({ kind: 'bad-signature', position: 1 });
  });

  it('the whole log swapped for another one: rewritten, at the first checkpointed event', async () => {
    const log = await writeLog(10);
    const other = await writeLog(10);
    writeFileSync(join(log.dir, 'audit_log.jsonl'), readFileSync(join(other.dir, 'audit_log.jsonl')));
    expect((await verify(log)).problem).to.include({ kind: 'rewritten', position: 4, seq: 4 });
  });

  it('an unparsable line: malformed, at that line', async () => {
    const log = await writeLog(5);
    const content = lines(log.dir);
    content[1] = content[1]!.slice(0, 20);
    save(log.dir, content);
    expect((await verify(log)).problem).to.include({ kind: 'malformed', position: 2, line: 2 });
  });

  it('a log written without a hash chain (the first seed\'s JSON array) is reported as such', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.json'), JSON.stringify([{ timestamp: '2026-01-01T00:00:00', action_type: 'hp_change', status: 'INFO', details: {}, error: null }], null, 2));
    const { problem } = await verifyAuditLog(dir);
    expect(problem).to.include({ kind: 'malformed', position: 1 });
    expect(problem?.message).to.include('written without a hash chain');
  });

  it('JSON arrays in either order and CSV: a change is found at the right event', async () => {
    for (const order of ['oldest-first', 'newest-first'] as const) {
      const log = await writeLog(8, ['json'], { order });
      const text = readFileSync(join(log.dir, 'audit_log.json'), 'utf8');
      writeFileSync(join(log.dir, 'audit_log.json'), text.replace('note-6', 'note-X'));
      expect((await verify(log)).problem, order).to.include({ kind: 'modified', position: 6, seq: 6 });
    }
    const log = await writeLog(8, ['csv']);
    const text = readFileSync(join(log.dir, 'audit_log.csv'), 'utf8').split('\n');
    text[3] = text[3]!.replace('WARNING', 'INFO'); // record of seq 3
    writeFileSync(join(log.dir, 'audit_log.csv'), text.join('\n'));
    expect((await verify(log)).problem).to.include({ kind: 'modified', position: 3, seq: 3 });
  });

  it('a keyed log with checkpoints survives restarts and several writers as one chain', async () => {
    const dir = tempDir();
    const keys = writeSigningKeys(join(dir, 'keys'));
    const options = { rootLogDir: dir, format: 'jsonl' as const, hmacKey: KEY, checkpoints: { privateKey: keys.privateKeyPath, every: 3 } };
    const a = new AuditLogger(options);
    const b = new AuditLogger(options);
    for (let i = 0; i < 7; i++) {
      await a.logEvent('a', { i });
      await b.logEvent('b', { i });
    }
    await a.close();
    await b.close();
    const c = new AuditLogger(options);
    await c.logEvent('after restart');
    await c.close();
    const report = await verifyAuditLog(dir, { hmacKey: KEY, publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs[0]!.events).to.equal(15);
    expect(report.checkpoints?.last?.seq).to.equal(15);
  });
});
