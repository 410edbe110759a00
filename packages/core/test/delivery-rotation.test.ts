// The journal reader across rotation: a cursor follows its file into a closed segment, then into the live file.
import { expect } from 'chai';
import { readdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, JsonlJournalReader, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { ScriptedSink, retryable } from './delivery-fixtures';

const SEGMENT = 'audit_log.20260527T143000.000000Z_20260527T143500.000000Z.jsonl';

async function journalOf(n: number): Promise<string[]> {
  const dir = tempDir();
  const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never' });
  for (let i = 1; i <= n; i++) await logger.logEvent('step', { i });
  await logger.close();
  return readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').trimEnd().split('\n');
}

describe('delivery across journal rotation', () => {
  it('finishes the segment its cursor points into (renamed since), then reads the live file', async () => {
    const dir = tempDir();
    const lines = await journalOf(20);
    writeFileSync(join(dir, 'audit_log.jsonl'), lines.slice(0, 12).join('\n') + '\n');
    // A first run delivers one batch of 4, then the sink goes down: the cursor stays after seq 4.
    const down = new ScriptedSink({ name: 'remote', delivery: { maxBatchSize: 4, maxBatchDelayMs: 1, initialBackoffMs: 1, maxBackoffMs: 5 } }, (_b, call) => (call === 1 ? { code: 'ok' } : retryable('down')));
    const first = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [down] });
    await first.close({ timeoutMs: 100 });
    expect(down.delivered.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4]);

    // Rotation: the live file becomes a closed segment; a new live file continues the seq.
    renameSync(join(dir, 'audit_log.jsonl'), join(dir, SEGMENT));
    writeFileSync(join(dir, 'audit_log.jsonl'), lines.slice(12).join('\n') + '\n');

    const up = new ScriptedSink({ name: 'remote', delivery: { maxBatchDelayMs: 1 } });
    const warnings: string[] = [];
    const second = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    second.on('warning', (w) => warnings.push(w.code));
    second.addSink(up);
    const logged = await second.logEvent('after rotation');
    await second.close();
    expect(warnings).to.not.include('CURSOR_RELOCATED');
    expect(up.delivered.map((e) => e.seq)).to.deep.equal([...Array(16).keys()].map((k) => k + 5).concat(logged.seq));
    expect(logged.seq).to.equal(21);
  });

  it('reads whole lines only, and steps from a finished segment into the next file', async () => {
    const dir = tempDir();
    const lines = await journalOf(6);
    writeFileSync(join(dir, 'a.jsonl'), lines.slice(0, 3).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl'), lines.slice(3).join('\n') + '\n' + '{"id":"torn'); // a line still being written
    const reader = new JsonlJournalReader(join(dir, 'b.jsonl'), () => [join(dir, 'a.jsonl'), join(dir, 'b.jsonl')]);
    let position = reader.start('beginning');
    const seen: number[] = [];
    for (let i = 0; i < 5; i++) {
      const chunk = reader.read(position, 2, 1 << 20);
      seen.push(...chunk.lines.map((l) => (l.event as AuditEvent).seq));
      position = chunk.end;
    }
    expect(seen).to.deep.equal([1, 2, 3, 4, 5, 6]);
    expect(position.file).to.equal('b.jsonl');
    expect(reader.bytesAfter(position)).to.equal('{"id":"torn'.length);
    expect(reader.resolve(position)).to.deep.equal({ position, relocated: false });
    reader.close();
  });

  it('resumes after the last event read when the segment being read is deleted under it, and says so', async () => {
    const dir = tempDir();
    const lines = await journalOf(6);
    writeFileSync(join(dir, 'a.jsonl'), lines.slice(0, 3).join('\n') + '\n');
    writeFileSync(join(dir, 'b.jsonl'), lines.slice(3).join('\n') + '\n');
    const warnings: string[] = [];
    const list = (): string[] => ['a.jsonl', 'b.jsonl'].map((n) => join(dir, n)).filter((p) => readdirSync(dir).includes(p.slice(dir.length + 1)));
    const reader = new JsonlJournalReader(join(dir, 'b.jsonl'), list, (m) => warnings.push(m));
    const first = reader.read(reader.start('beginning'), 2, 1 << 20);
    expect(first.lines.map((l) => l.seq)).to.deep.equal([1, 2]);
    unlinkSync(join(dir, 'a.jsonl'));
    const rest = reader.read(first.end, 10, 1 << 20);
    expect(rest.lines.map((l) => l.seq)).to.deep.equal([4, 5, 6]);
    expect(warnings).to.have.length(1);
    expect(warnings[0]).to.include('a.jsonl disappeared').and.include('after seq 2');
    reader.close();
  });

  it('rotates the outbox of a json-only logger into segments, reads across them, and deletes those every cursor has left', async () => {
    const dir = tempDir();
    const segments = (): string[] => readdirSync(join(dir, '.delivery')).filter((n) => /^outbox\.\d{16}\.jsonl$/.test(n)).sort();
    const delivery = { outboxSegmentBytes: 2000 };
    const down = new ScriptedSink({ name: 'remote', delivery: { maxBatchDelayMs: 1, initialBackoffMs: 1, maxBackoffMs: 5 } }, () => retryable('down'));
    const first = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [down], delivery });
    const logged: AuditEvent[] = [];
    for (let i = 0; i < 30; i++) logged.push(await first.logEvent('step', { i, pad: 'x'.repeat(200) }));
    await first.close({ timeoutMs: 50 });
    const written = segments();
    expect(written.length).to.be.at.least(4);
    expect(written[0]).to.equal('outbox.0000000000000001.jsonl');

    const up = new ScriptedSink({ name: 'remote', delivery: { maxBatchDelayMs: 1, maxBatchSize: 7 } });
    const second = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [up], delivery });
    await second.flush({ timeoutMs: 10_000 });
    expect(up.delivered.map((e) => e.seq)).to.deep.equal(logged.map((e) => e.seq));
    for (let i = 0; i < 10; i++) logged.push(await second.logEvent('more', { i, pad: 'x'.repeat(200) }));
    await second.close();
    expect(up.delivered.map((e) => e.seq)).to.deep.equal(logged.map((e) => e.seq));
    const left = segments();
    expect(left).to.not.include(written[0]);
    expect(left.length).to.be.below(written.length);
  });

  it("follows the logger's own rotation (rotation.maxBytes) while a sink is down, then delivers every event in order", async () => {
    const dir = tempDir();
    let up = false;
    const sink = new ScriptedSink({ name: 'remote', delivery: { maxBatchSize: 8, maxBatchDelayMs: 1, initialBackoffMs: 1, maxBackoffMs: 5 } }, (_b, call) => (call === 1 || up ? { code: 'ok' } : retryable('down')));
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', rotation: { maxBytes: 3000 }, sinks: [sink] });
    const logged: AuditEvent[] = [];
    for (let i = 0; i < 60; i++) {
      logged.push(await logger.logEvent('step', { i, pad: 'y'.repeat(150) }));
      if (i % 10 === 0) await new Promise((resolve) => setImmediate(resolve));
    }
    expect(readdirSync(dir).filter((n) => /^audit_log\..+\.jsonl$/.test(n)).length).to.be.at.least(3);
    up = true;
    const result = await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(result.ok).to.equal(true);
    const delivered = sink.delivered.filter((e) => e.action_type === 'step').map((e) => e.seq);
    expect(delivered).to.deep.equal(logged.map((e) => e.seq));
  });
});
