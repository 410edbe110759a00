// verifyPostgresTable on a table written by the real PostgresSink from two logs: each chain verified on its own, checkpoints applied to the log they sign.
import { expect } from 'chai';
import { join } from 'node:path';
import { Client } from 'pg';
import { AuditLogger, writeSigningKeys } from '@auditrail/core';
import { PostgresSink, verifyPostgresTable } from '@auditrail/postgres';
import { tempDir } from '../../../test/helpers/tmp';

const PG = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: process.env.PGDATABASE ?? 'test' };

describe('verify a Postgres table holding several chains', () => {
  const table = `verify_chains_${process.pid}_${Date.now()}`;
  const client = new Client({ ...PG, connectionTimeoutMillis: 10_000 });
  before(() => client.connect());
  after(async () => {
    await client.query(`DROP TABLE IF EXISTS ${table}`);
    await client.end();
  });

  it('verifies each log id as its own chain, applies the checkpoints to the log they sign, and names a deleted row', async () => {
    const keys = writeSigningKeys(join(tempDir(), 'keys'));
    const signedDir = tempDir();
    const signed = new AuditLogger({ rootLogDir: signedDir, format: 'jsonl', sinks: [new PostgresSink({ client: PG, table })], checkpoints: { privateKey: keys.privateKeyPath, every: 5 } });
    const plain = new AuditLogger({ rootLogDir: tempDir(), format: 'jsonl', sinks: [new PostgresSink({ client: PG, table })] });
    for (let i = 0; i < 12; i++) {
      await signed.logEvent('signed', { i });
      await plain.logEvent('plain', { i });
    }
    await signed.close();
    await plain.close();
    const checkpoints = join(signedDir, 'audit_log.checkpoints.jsonl');
    const report = await verifyPostgresTable({ connection: client, table, checkpoints, publicKey: keys.publicKeyPath });
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
    expect(report.logs.map((log) => log.events)).to.deep.equal([12, 12]);
    expect(report.checkpoints?.last?.seq).to.equal(12);
    await client.query(`DELETE FROM ${table} WHERE action_type = 'plain' AND seq = 7`);
    const broken = await verifyPostgresTable({ connection: client, table, checkpoints, publicKey: keys.publicKeyPath });
    expect(broken.ok).to.equal(false);
    expect(broken.problem).to.include({ kind: 'deleted', position: 7, seq: 8 });
  });
});
