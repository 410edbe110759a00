// Several processes writing one directory (HMAC chain, checkpoints, rotation) leave one chain that verifies, with every event.
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { listSegments, verifyAuditLog, writeSigningKeys } from '@auditrail/core';
import { runTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';

describe('one chain from several processes', () => {
  it('3 processes x 300 events: one verified HMAC chain across segments, signed, in JSONL and CSV, no secret on disk', async () => {
    const dir = tempDir();
    const keys = writeSigningKeys(join(tempDir(), 'keys'));
    const runs = await Promise.all([1, 2, 3].map(() => runTs(join(__dirname, 'rotation-fixtures', 'writer.ts'), [dir, keys.privateKeyPath, '300'])));
    for (const run of runs) expect(run.code, run.stderr).to.equal(0);
    const report = await verifyAuditLog(dir, { hmacKey: 'multi-writer-key', publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs.map((log) => [log.format, log.events])).to.deep.equal([
      ['jsonl', 900],
      ['csv', 900],
    ]);
    expect(listSegments(dir).length).to.be.greaterThan(2);
    expect(report.checkpoints?.last?.seq).to.equal(900);
    expect(report.checkpoints?.count).to.be.at.least(18);
    for (const name of readdirSync(dir)) {
      if (name.startsWith('audit_log')) expect(readFileSync(join(dir, name), 'utf8'), name).not.to.include('never-on-disk');
    }
  });
});
