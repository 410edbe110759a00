// audit_log.jsonl: one event a line, append-only; a torn last line is moved to .torn on open, never merged.
import { expect } from 'chai';
import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, readEvents, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonl, leaseEnds } from './helpers';

describe('JSONL file', () => {
  it('appends one line per event and carries seq and the chain across restarts', async () => {
    const dir = tempDir();
    for (let run = 0; run < 3; run++) {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      await logger.logEvent('run', { run });
      await logger.logEvent('run', { run });
      await logger.close();
    }
    const events = readJsonl(dir);
    expect(events.map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5, 6]);
    for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash).to.equal(events[i - 1]!.hash);
    expect(readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').endsWith('\n')).to.equal(true);
  });

  it('moves a torn last line to .torn on open and never merges it into the next event', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await logger.logEvent('b');
    await logger.close();
    const path = join(dir, 'audit_log.jsonl');
    const fragment = '{"id":"0193","seq":3,"timestamp":"2026-05-27T14:30:05.4';
    appendFileSync(path, fragment); // a crash in the middle of a write
    logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(w.code));
    const c = await logger.logEvent('c');
    await logger.close();
    expect(c.seq).to.equal(3);
    const events = readJsonl(dir);
    expect(events.map((e) => e.action_type)).to.deep.equal(['a', 'b', 'c']);
    expect(events[2]!.prev_hash).to.equal(events[1]!.hash);
    expect(readFileSync(path + '.torn', 'utf8')).to.equal(fragment + '\n');
  });

  it('repairs the torn line when the repair happens under a later lease too (not only on open)', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await leaseEnds();
    appendFileSync(join(dir, 'audit_log.jsonl'), '{"half'); // another writer died mid-line
    await logger.logEvent('b');
    await logger.close();
    expect(readJsonl(dir).map((e) => e.seq)).to.deep.equal([1, 2]);
    expect(existsSync(join(dir, 'audit_log.jsonl.torn'))).to.equal(true);
  });

  it('refuses to continue a file whose last line is not an audit event, on every call, without writing', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'audit_log.jsonl'), '{"some":"other log"}\n');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    for (let i = 0; i < 3; i++) {
      const err = await logger.logEvent('a').then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err?.message, `call ${i + 1}`).to.include('last line is not an audit event');
      await new Promise((r) => setImmediate(r));
    }
    await logger.close();
    expect(readFileSync(join(dir, 'audit_log.jsonl'), 'utf8')).to.equal('{"some":"other log"}\n');
  });

  it('reads a live log whose last line is still being written, ignoring only that line', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await logger.close();
    appendFileSync(join(dir, 'audit_log.jsonl'), '{"id":"x","seq":2,"tim');
    const events: AuditEvent[] = [];
    for await (const e of readEvents(dir)) events.push(e);
    expect(events.map((e) => e.seq)).to.deep.equal([1]);
  });
});
