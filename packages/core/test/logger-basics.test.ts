// The seed documents' basic calls, against real files in a temp dir.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, InvalidStatusError, outcomeStatuses, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';

describe('AuditLogger basics', () => {
  it('logs the second seed form with the INFO default and the first seed form', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    const a = await logger.logEvent('Data Ingestion started', { file: 'dataset.csv' });
    const b = await logger.logEvent({ action: 'Drift detected', status: 'WARNING', details: { feature: 'age', drift_score: 0.8 } });
    await logger.close();
    expect(a.status).to.equal('INFO');
    expect([a.seq, b.seq]).to.deep.equal([1, 2]);
    const lines = readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditEvent);
    expect(lines.map((e) => e.action_type)).to.deep.equal(['Data Ingestion started', 'Drift detected']);
    expect(lines[1]!.prev_hash).to.equal(lines[0]!.hash);
    expect(lines[0]!.timestamp).to.match(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  });

  it('rejects an invalid status naming it and the valid ones, writing nothing', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', statuses: outcomeStatuses });
    const err = await logger.logEvent('hp_change', {}, 'INFO').then(() => null, (e: unknown) => e);
    await logger.close();
    expect(err).to.be.instanceOf(InvalidStatusError);
    expect((err as Error).message).to.include('"INFO"').and.include('"success", "failed"');
    expect(readFileSync(join(dir, 'audit_log.jsonl'), 'utf8')).to.equal('');
  });
});
