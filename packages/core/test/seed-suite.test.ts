// The first seed's own test list (WeightsLab test_audit_logger.py), against real files: creation and serialisation,
// JSON and CSV writing, 10+ concurrent writers, special characters and Unicode, empty and missing details,
// nested structures, restart persistence and the summary.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, outcomeStatuses, type AuditEvent, type AuditLoggerOptions } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readCsv, readCsvRows, readJsonArray } from './helpers';

const seedLogger = (dir: string, extra: AuditLoggerOptions = {}): AuditLogger =>
  new AuditLogger({ rootLogDir: dir, experimentName: 'my_experiment', statuses: outcomeStatuses, ...extra });

describe('the first seed test list', () => {
  it('creates an event and serialises it with the seed fields', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir);
    const event = await logger.logEvent({ action_type: 'hp_change', status: 'success', details: { learning_rate: 0.001, batch_size: 32 } });
    await logger.close();
    expect(event).to.include({ action_type: 'hp_change', status: 'success', error: null });
    expect(event.details).to.deep.equal({ batch_size: 32, learning_rate: 0.001 });
    const json = JSON.parse(JSON.stringify(event)) as AuditEvent;
    expect(json).to.deep.equal(event);
  });

  it('creates audit_log.json on first use and appends each operation', async () => {
    const dir = join(tempDir(), 'root_log_dir');
    const logger = seedLogger(dir);
    expect(existsSync(join(dir, 'audit_log.json'))).to.equal(true);
    await logger.logEvent({ action_type: 'hp_change', details: { changed_params: { learning_rate: 0.001 } } });
    await logger.logEvent({ action_type: 'checkpoint_restore', status: 'failed', details: { checkpoint_id: 'ckpt_001' }, error: 'Checkpoint file not found' });
    await logger.close();
    const events = readJsonArray(dir);
    // The seed's Python analysis: failures and hp changes.
    expect(events.filter((e) => e.status === 'failed').map((e) => `FAILED ${e.action_type}: ${e.error}`)).to.deep.equal(['FAILED checkpoint_restore: Checkpoint file not found']);
    expect(events.filter((e) => e.action_type === 'hp_change')).to.have.length(1);
  });

  it('writes audit_log.csv with the seed header and escaped JSON details', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir, { format: 'csv' });
    await logger.logEvent({ action_type: 'query_execute', status: 'failed', details: { query_type: 'natural_language' }, error: 'Invalid query syntax: unexpected token' });
    await logger.close();
    expect(readFileSync(join(dir, 'audit_log.csv'), 'utf8')).to.match(/^timestamp,action_type,status,details,error,/);
    const row = readCsvRows(dir)[1]!;
    expect(row.slice(1, 5)).to.deep.equal(['query_execute', 'failed', '{"query_type":"natural_language"}', 'Invalid query syntax: unexpected token']);
  });

  it('logs from 12 concurrent writers without loss (JSON and CSV)', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir, { format: ['json', 'csv'] });
    await Promise.all(
      Array.from({ length: 12 }, async (_, t) => {
        for (let i = 0; i < 25; i++) {
          await logger.logEvent({ action_type: 'tag_add', details: { thread: t, i } });
          if (i % 4 === 0) await new Promise((r) => setImmediate(r));
        }
      }),
    );
    await logger.close();
    for (const events of [readJsonArray(dir), readCsv(dir)]) {
      expect(events).to.have.length(300);
      expect(new Set(events.map((e) => `${String(e.details.thread)}/${String(e.details.i)}`)).size).to.equal(300);
    }
  });

  it('keeps special characters and Unicode exact in JSON and CSV', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir, { format: ['json', 'csv'] });
    const text = 'Ünïcödé 日本語 emoji 🎉 quotes "x" \'y\' backslash \\ comma, tab\tnewline\n NUL-free';
    const event = await logger.logEvent({ action_type: 'note_write', details: { note: text, 'clé spéciale': 'ß' }, error: text });
    await logger.close();
    expect(readJsonArray(dir)[0]).to.deep.equal(event);
    expect(readCsv(dir)[0]).to.deep.equal(event);
    expect(event.details.note).to.equal(text);
  });

  it('accepts empty and missing details', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir);
    const a = await logger.logEvent({ action_type: 'pause' });
    const b = await logger.logEvent({ action_type: 'resume', details: {} });
    const c = await logger.logEvent('mode_switch');
    const d = await logger.logEvent({ action_type: 'resume', details: null as unknown as undefined });
    await logger.close();
    for (const e of [a, b, c, d]) expect(e.details).to.deep.equal({});
    expect(readJsonArray(dir).map((e) => e.details)).to.deep.equal([{}, {}, {}, {}]);
  });

  it('keeps nested structures (before/after values, lists, deep objects)', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir, { format: ['json', 'csv'] });
    const details = {
      before: { optimizer: { name: 'adam', betas: [0.9, 0.999] }, schedule: [{ epoch: 1, lr: 0.1 }] },
      after: { optimizer: { name: 'sgd', momentum: 0.9 }, schedule: [] },
      sample_ids: ['s1', 's2', 's3'],
      matrix: [[1, 2], [3, [4, { five: 5 }]]],
    };
    const event = await logger.logEvent({ action_type: 'hp_change', details });
    await logger.close();
    expect(event.details).to.deep.equal(details);
    expect(readJsonArray(dir)[0]!.details).to.deep.equal(details);
    expect(readCsv(dir)[0]!.details).to.deep.equal(details);
  });

  it('persists across restarts: a new logger on the same directory appends and continues the chain', async () => {
    const dir = tempDir();
    for (let run = 1; run <= 3; run++) {
      const logger = seedLogger(dir, { format: ['json', 'csv'] });
      await logger.logEvent({ action_type: 'evaluation_start', details: { run } });
      await logger.close();
    }
    for (const events of [readJsonArray(dir), readCsv(dir)]) {
      expect(events.map((e) => [e.seq, e.details.run])).to.deep.equal([[1, 1], [2, 2], [3, 3]]);
      expect(events[2]!.prev_hash).to.equal(events[1]!.hash);
    }
  });

  it('summarises as get_log_summary does', async () => {
    const dir = tempDir();
    const logger = seedLogger(dir);
    for (let i = 0; i < 5; i++) await logger.logEvent({ action_type: 'hp_change' });
    for (let i = 0; i < 3; i++) await logger.logEvent({ action_type: 'tag_add' });
    await logger.logEvent({ action_type: 'checkpoint_restore', status: 'failed', error: 'missing' });
    expect(await logger.getLogSummary()).to.deep.equal({
      total_events: 9,
      by_action_type: { hp_change: 5, tag_add: 3, checkpoint_restore: 1 },
      by_status: { success: 8, failed: 1 },
    });
    await logger.close();
  });
});
