// `auditrail keygen`, `auditrail verify` and `auditrail redact-lookup` in a child process: exit codes, the OK line, the first bad event, Postgres tables.
import { expect } from 'chai';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { AuditLogger, computeHash, redactionHash, type AuditEvent } from '@auditrail/core';
import { runCli } from './helpers/run-cli';
import { tempDir } from '../../../test/helpers/tmp';

async function writeLog(dir: string, privateKey: string, count: number, hmacKey?: string): Promise<AuditEvent[]> {
  const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], checkpoints: { privateKey, every: 5 }, ...(hmacKey ? { hmacKey } : {}) });
  const events: AuditEvent[] = [];
  for (let i = 1; i <= count; i++) events.push(await logger.logEvent('epoch_end', { epoch: i, loss: 1 / i, label: 'ünï ✓ 日本' }));
  await logger.close();
  return events;
}

describe('auditrail keygen, verify and redact-lookup', () => {
  it('redact-lookup prints the mask of a value and lists the events that hold it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'redact.key'), 'r-key\n');
    const logger = new AuditLogger({ rootLogDir: join(dir, 'log'), format: 'jsonl', redact: { hmacKey: 'r-key' } });
    await logger.logEvent('login', { password: 'hunter2' });
    await logger.logEvent('login', { password: 'other' });
    const third = await logger.logEvent('rotate', { old: { password: 'hunter2' } });
    await logger.close();
    const run = await runCli(['redact-lookup', '--key-file', join(dir, 'redact.key'), 'hunter2', '--in', join(dir, 'log')]);
    expect(run.code, run.stderr).to.equal(0);
    const [mask, first, second, count] = run.stdout.trimEnd().split('\n');
    expect(mask).to.equal(redactionHash('hunter2', 'r-key'));
    expect(first).to.match(/^ {2}seq 1 /);
    expect(second).to.include(`seq 3`).and.include(third.id);
    expect(count).to.equal('2 event(s) hold this mask');
    const env = await runCli(['redact-lookup', '--json', '42'], { env: { AUDIT_LOG_REDACT_KEY: 'r-key' } });
    expect(env.stdout.trim()).to.equal(redactionHash(42, 'r-key'));
    const none = await runCli(['redact-lookup', 'x'], { env: { AUDIT_LOG_REDACT_KEY: '' } });
    expect(none.code).to.equal(2);
    expect(none.stderr).to.include('redaction key');
  });


  it('keygen writes a private key 0600 and a public key, and refuses to overwrite them', async () => {
    const out = join(tempDir(), 'keys');
    const first = await runCli(['keygen', '--out', out]);
    expect(first.code, first.stderr).to.equal(0);
    expect(first.stdout).to.match(/Key id: +[0-9a-f]{16}/);
    expect(statSync(join(out, 'audit_signing_key.pem')).mode & 0o777).to.equal(0o600);
    expect(statSync(out).mode & 0o777).to.equal(0o700);
    expect(readFileSync(join(out, 'audit_signing_key.pub.pem'), 'utf8')).to.include('BEGIN PUBLIC KEY');
    const again = await runCli(['keygen', '--out', out]);
    expect(again.code).to.equal(2);
    expect(again.stderr).to.include('already holds a signing key');
  });

  it('verify exits 0 with "OK: N events, chain intact" and the last checkpoint verified', async () => {
    const dir = tempDir();
    await runCli(['keygen', '--out', join(dir, 'keys')]);
    await writeLog(join(dir, 'log'), join(dir, 'keys', 'audit_signing_key.pem'), 12);
    const run = await runCli(['verify', join(dir, 'log'), '--public-key', join(dir, 'keys', 'audit_signing_key.pub.pem')]);
    expect(run.code, run.stderr).to.equal(0);
    expect(run.stdout).to.include('OK: 12 events, chain intact (jsonl:').and.include('OK: 12 events, chain intact (csv:');
    expect(run.stdout).to.match(/Last checkpoint: #3, seq 12, signed .*, signature verified/);
  });

  it('verify exits 1 naming the first bad event: kind, position, seq and id', async () => {
    const dir = tempDir();
    await runCli(['keygen', '--out', join(dir, 'keys')]);
    const events = await writeLog(join(dir, 'log'), join(dir, 'keys', 'audit_signing_key.pem'), 6);
    const path = join(dir, 'log', 'audit_log.jsonl');
    const lines = readFileSync(path, 'utf8').trimEnd().split('\n');
    lines.splice(2, 1);
    writeFileSync(path, lines.join('\n') + '\n');
    const run = await runCli(['verify', join(dir, 'log'), '--format', 'jsonl']);
    expect(run.code).to.equal(1);
    expect(run.stdout).to.include(`FAILED: deleted: 1 event(s) (seq 3) were deleted before position 3 (seq 4, id ${events[3]!.id})`);
    expect(run.stderr).to.include('warning: checkpoint signatures were not checked');
  });

  it('verify reads the HMAC key from --key-file or AUDIT_LOG_HMAC_KEY, and prints JSON with --json', async () => {
    const dir = tempDir();
    await runCli(['keygen', '--out', join(dir, 'keys')]);
    await writeLog(join(dir, 'log'), join(dir, 'keys', 'audit_signing_key.pem'), 3, 'k3y');
    writeFileSync(join(dir, 'hmac.key'), 'k3y\n', { mode: 0o600 });
    const withFile = await runCli(['verify', join(dir, 'log'), '--key-file', join(dir, 'hmac.key')]);
    expect(withFile.code, withFile.stdout + withFile.stderr).to.equal(0);
    expect(withFile.stdout).to.include('OK: 3 events, HMAC chain intact');
    const withEnv = await runCli(['verify', join(dir, 'log'), '--json'], { env: { AUDIT_LOG_HMAC_KEY: 'k3y' } });
    expect((JSON.parse(withEnv.stdout) as { ok: boolean; keyed: boolean })).to.include({ ok: true, keyed: true });
    const without = await runCli(['verify', join(dir, 'log')], { env: { AUDIT_LOG_HMAC_KEY: '' } });
    expect(without.code).to.equal(1);
    expect(without.stdout).to.include('FAILED: modified: position 1');
  });

  it('verify names its own flags when a key cannot be used: --public-key that is not a key, an empty --key-file', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await logger.close();
    writeFileSync(join(dir, 'bad.pem'), '-----BEGIN PUBLIC KEY-----garbage\n');
    writeFileSync(join(dir, 'empty.key'), '');
    const bad = await runCli(['verify', dir, '--format', 'jsonl', '--public-key', join(dir, 'bad.pem')]);
    expect(bad.code).to.equal(2);
    expect(bad.stderr.trim()).to.match(/^auditrail: Invalid option "--public-key": cannot be read as a public key/);
    expect(bad.stderr.trim().split('\n')).to.have.length(1);
    const empty = await runCli(['verify', dir, '--format', 'jsonl', '--key-file', join(dir, 'empty.key')]);
    expect(empty.stderr).to.include('the HMAC key is empty');
  });

  it('verify --postgres reads a table in seq order and finds a modified row', async () => {
    const dir = tempDir();
    await runCli(['keygen', '--out', join(dir, 'keys')]);
    const events = await writeLog(join(dir, 'log'), join(dir, 'keys', 'audit_signing_key.pem'), 8);
    const pg = { host: process.env.PGHOST ?? '127.0.0.1', port: Number(process.env.PGPORT ?? 5432), user: process.env.PGUSER ?? 'postgres', database: process.env.PGDATABASE ?? 'test' };
    const client = new Client({ ...pg, connectionTimeoutMillis: 10_000 });
    await client.connect();
    const table = `verify_test_${process.pid}_${Date.now()}`;
    try {
      await client.query(`CREATE TABLE ${table} (id uuid PRIMARY KEY, seq bigint NOT NULL, "timestamp" timestamptz NOT NULL, action_type text NOT NULL,
        status text NOT NULL, details jsonb NOT NULL, error text, actor text, source jsonb NOT NULL, experiment text, log_id text, prev_hash text, hash text, raw_event text)`);
      for (const e of [...events].reverse()) {
        await client.query(`INSERT INTO ${table} VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,NULL)`, [
          e.id, e.seq, e.timestamp, e.action_type, e.status, JSON.stringify(e.details), e.error, e.actor, JSON.stringify(e.source), null, e.source.log, e.prev_hash, e.hash,
        ]);
      }
      const url = `postgres://${pg.user}@${pg.host}:${pg.port}/${pg.database}`;
      const ok = await runCli(['verify', '--postgres', url, '--table', table, '--checkpoints', join(dir, 'log', 'audit_log.checkpoints.jsonl'), '--public-key', join(dir, 'keys', 'audit_signing_key.pub.pem')]);
      expect(ok.code, ok.stdout + ok.stderr).to.equal(0);
      expect(ok.stdout).to.include(`OK: 8 events, chain intact (${table}`);
      expect(ok.stdout).to.include('Last checkpoint: #2, seq 8');
      await client.query(`UPDATE ${table} SET details = jsonb_set(details, '{epoch}', '99') WHERE seq = 4`);
      const bad = await runCli(['verify', '--postgres', url, '--table', table]);
      expect(bad.code).to.equal(1);
      expect(bad.stdout).to.include(`FAILED: modified: position 4 (seq 4, id ${events[3]!.id})`);
      // A forged row with a recomputed plain hash between 5 and 6 links to 5: inserted.
      const five = events[4]!;
      const forged: Omit<AuditEvent, 'hash'> = { ...five, id: '01000000-0000-7000-8000-0000000000aa', seq: 6, prev_hash: five.hash, details: { forged: true } };
      await client.query(`UPDATE ${table} SET details = jsonb_set(details, '{epoch}', '4') WHERE seq = 4`);
      await client.query(`INSERT INTO ${table} VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,NULL,$10,$11,$12,NULL)`, [
        forged.id, forged.seq, forged.timestamp, forged.action_type, forged.status, JSON.stringify(forged.details), null, null, JSON.stringify(forged.source), forged.source.log, forged.prev_hash, computeHash(forged),
      ]);
      const inserted = await runCli(['verify', '--postgres', url, '--table', table]);
      expect(inserted.stdout).to.include(`FAILED: inserted: position 6 (seq 6, id ${forged.id})`);
    } finally {
      await client.query(`DROP TABLE IF EXISTS ${table}`);
      await client.end();
    }
  });
});
