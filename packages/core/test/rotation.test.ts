// Rotation and retention of the JSONL journal: segments named by time range, one chain across them,
// delivery cursors that follow, verify walking every segment, and retention recorded in the chain.
import { expect } from 'chai';
import { readFileSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  AuditLogger,
  InvalidOptionError,
  listSegments,
  RETENTION_ACTION,
  SEGMENT_PATTERN,
  verifyAuditLog,
  writeSigningKeys,
  type AuditEvent,
  type BatchSink,
} from '@auditrail/core';
import { runTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';

function events(path: string): AuditEvent[] {
  return readFileSync(path, 'utf8')
    .trimEnd()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as AuditEvent);
}

function compact(timestamp: string): string {
  return timestamp.replace(/[-:]/g, '');
}

describe('rotation and retention of the JSONL journal', () => {
  it('rotates by size into segments named by their time range; the chain continues and verifies across them', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 2_000 } });
    for (let i = 0; i < 60; i++) await logger.logEvent('step', { i, note: 'x'.repeat(40) });
    await logger.close();
    const segments = listSegments(dir);
    expect(segments.length).to.be.greaterThan(3);
    let seq = 0;
    let prev = '0'.repeat(64);
    for (const path of [...segments.map((s) => s.path), join(dir, 'audit_log.jsonl')]) {
      const list = events(path);
      for (const event of list) {
        expect(event.seq).to.equal(++seq);
        expect(event.prev_hash).to.equal(prev);
        prev = event.hash;
      }
      if (path.endsWith('audit_log.jsonl')) continue;
      const m = SEGMENT_PATTERN.exec(path.slice(dir.length + 1))!;
      expect([m[1], m[2]]).to.deep.equal([compact(list[0]!.timestamp), compact(list[list.length - 1]!.timestamp)]);
      expect(statSync(path).size).to.be.at.least(2_000);
      expect(statSync(path).mode & 0o777).to.equal(0o600);
    }
    expect(seq).to.equal(60);
    const report = await verifyAuditLog(dir);
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs[0]!.events).to.equal(60);
    expect(report.logs[0]!.files).to.have.length(segments.length + 1);
  });

  it('rotates when the UTC day changes, and a restart continues the chain from the newest segment', async () => {
    const dir = tempDir();
    const run = await runTs(join(__dirname, 'rotation-fixtures', 'day.ts'), [dir]);
    expect(run.code, run.stderr).to.equal(0);
    const segments = listSegments(dir);
    expect(segments.map((s) => s.name)).to.have.length(1);
    expect(segments[0]!.name).to.match(/^audit_log\.20990101T235959\.\d{6}Z_20990101T235959\.\d{6}Z\.jsonl$/);
    expect(events(segments[0]!.path).map((e) => e.action_type)).to.deep.equal(['before midnight', 'before midnight', 'before midnight']);
    expect(events(join(dir, 'audit_log.jsonl')).map((e) => e.seq)).to.deep.equal([4, 5]);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });

  it('keeps one chain when several writers share the directory and one of them rotates', async () => {
    const dir = tempDir();
    const a = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 1_500 } });
    const b = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    for (let i = 0; i < 40; i++) {
      await a.logEvent('a', { i });
      await b.logEvent('b', { i });
    }
    await a.close();
    await b.close();
    const report = await verifyAuditLog(dir);
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs[0]!.events).to.equal(80);
    expect(listSegments(dir).length).to.be.greaterThan(1);
  });

  it('a secondary file left behind across a rotation is brought up to date from the segment and the live file', async () => {
    const dir = tempDir();
    const options = { rootLogDir: dir, format: ['jsonl', 'csv'] as ('jsonl' | 'csv')[], rotation: { maxBytes: 1_500 } };
    const logger = new AuditLogger(options);
    let seq = 0;
    while (listSegments(dir).length === 0 || events(join(dir, 'audit_log.jsonl')).length < 1) seq = (await logger.logEvent('step', { seq })).seq;
    await logger.close();
    expect(events(join(dir, 'audit_log.jsonl')).map((e) => e.seq)).to.deep.equal([seq]);
    // As if two writers had crashed between the journal and the CSV: its last two records (one per file of the journal) are missing.
    const csv = readFileSync(join(dir, 'audit_log.csv'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'audit_log.csv'), csv.slice(0, -2).join('\n') + '\n');
    const reopened = new AuditLogger(options);
    await reopened.logEvent('after');
    await reopened.close();
    const report = await verifyAuditLog(dir);
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs.map((log) => [log.format, log.events])).to.deep.equal([
      ['jsonl', seq + 1],
      ['csv', seq + 1],
    ]);
  });

  it('verify reports a missing segment, at the first event after the gap', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 1_500 } });
    for (let i = 0; i < 40; i++) await logger.logEvent('step', { i });
    await logger.close();
    const segments = listSegments(dir);
    const gone = events(segments[1]!.path);
    unlinkSync(segments[1]!.path);
    const { problem } = await verifyAuditLog(dir);
    expect(problem).to.include({ kind: 'missing-segment', seq: gone[gone.length - 1]!.seq + 1, line: 1, file: segments[2]!.path });
    expect(problem?.message).to.include(`seq ${gone[0]!.seq}..${gone[gone.length - 1]!.seq}`);
  });

  it('delivery cursors follow the journal across rotations: a batch sink gets every event once, in order', async () => {
    const dir = tempDir();
    const received: number[] = [];
    const sink: BatchSink = {
      name: 'collector',
      export: async (batch) => {
        for (const event of batch) received.push(event.seq);
        return { code: 'ok' };
      },
    };
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 1_200 }, sinks: [sink] });
    for (let i = 0; i < 50; i++) {
      await logger.logEvent('step', { i });
      if (i % 7 === 0) await logger.flush();
    }
    await logger.close();
    expect(listSegments(dir).length).to.be.greaterThan(2);
    expect(received).to.deep.equal(Array.from({ length: 50 }, (_, i) => i + 1));
  });

  it('retention deletes whole expired segments, records each deletion with its last hash, and the rest still verifies (with checkpoints)', async () => {
    const dir = tempDir();
    const keys = writeSigningKeys(join(tempDir(), 'keys'));
    const expected = listSegments(dir); // none yet: the fixture writes, waits, then a logger with retention opens
    expect(expected).to.deep.equal([]);
    const run = await runTs(join(__dirname, 'rotation-fixtures', 'retention.ts'), ['expire', dir, keys.privateKeyPath]);
    expect(run.code, run.stderr).to.equal(0);
    expect(listSegments(dir)).to.deep.equal([]);
    const live = events(join(dir, 'audit_log.jsonl'));
    const records = live.filter((e) => e.action_type === RETENTION_ACTION);
    expect(records.length).to.be.greaterThan(1);
    // Each record names the segment it deleted; they cover seq 1..40 without a gap, oldest first.
    let next = 1;
    for (const record of records) {
      expect(record.details.deleted_segment).to.match(SEGMENT_PATTERN);
      expect(record.details.deleted_first_seq).to.equal(next);
      expect(record.details.deleted_last_hash).to.match(/^[0-9a-f]{64}$/);
      next = (record.details.deleted_last_seq as number) + 1;
    }
    expect(next).to.equal(41);
    expect(records[0]!.status).to.equal('INFO');
    expect(live[0]!.prev_hash).to.equal(records[records.length - 1]!.details.deleted_last_hash);
    const report = await verifyAuditLog(dir, { publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs[0]!.firstSeq).to.equal(41);
    // A retention record removed from the chain is itself a deletion; and with all of them gone, so is the head.
    const lines = readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').trimEnd().split('\n');
    writeFileSync(join(dir, 'audit_log.jsonl'), lines.filter((line) => !line.includes(`"deleted_last_seq":40`)).join('\n') + '\n');
    expect((await verifyAuditLog(dir, { checkpoints: false })).problem).to.include({ kind: 'deleted', position: records.length });
    writeFileSync(join(dir, 'audit_log.jsonl'), lines.slice(records.length).join('\n') + '\n');
    expect((await verifyAuditLog(dir, { checkpoints: false })).problem).to.include({ kind: 'deleted', position: 1 });
  });

  it('never deletes a segment younger than minAgeDays (default 183): a shorter maxAgeDays is refused', async () => {
    const dir = tempDir();
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', retention: { maxAgeDays: 30 } })).to.throw(InvalidOptionError, /below the retention floor of 183 days/);
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', retention: { maxAgeDays: 1, minAgeDays: 2 } })).to.throw(InvalidOptionError, /retention\.maxAgeDays/);
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'json', retention: { maxAgeDays: 200 } })).to.throw(InvalidOptionError, /JSONL journal/);
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', rotation: { maxBytes: 1_000 }, retention: { maxAgeDays: 200 } });
    for (let i = 0; i < 30; i++) await logger.logEvent('step', { i });
    await logger.close();
    expect(listSegments(dir).length).to.be.greaterThan(1);
    expect(events(join(dir, 'audit_log.jsonl')).some((e) => e.action_type === RETENTION_ACTION)).to.equal(false);
  });

  it('keeps an expired segment that a journal-fed sink has not received yet', async () => {
    const dir = tempDir();
    const run = await runTs(join(__dirname, 'rotation-fixtures', 'retention.ts'), ['waiting', dir]);
    expect(run.code, run.stderr).to.equal(0);
    expect((JSON.parse(run.stdout) as { warnings: string[] }).warnings).to.include('RETENTION_WAITING');
    // The cursor is at seq 3: only segments whose events are all delivered could go, and the first holds seq 4 onwards.
    const remaining = listSegments(dir);
    expect(remaining.length).to.be.greaterThan(0);
    expect(events(remaining[0]!.path)[0]!.seq).to.be.at.most(4);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
  });
});
