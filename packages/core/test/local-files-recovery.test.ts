// Local files after crashes and failures: the log id file, a directory that comes back, fsync across
// rotation, a failed secondary write, stale locks broken by several writers at once, and summaries over segments.
import { expect } from 'chai';
import sinon from 'sinon';
import fs, { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { AuditLogger, LockTimeoutError, readEvents, verifyAuditLog, type AuditEvent } from '@auditrail/core';
import { spawn, spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { runTs, saidBy, spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { readCsv, readJsonl } from './helpers';

const CONTENDER = resolve(__dirname, 'local-fixtures/contender.ts');

function backdate(path: string, ms: number): void {
  const then = new Date(Date.now() - ms);
  utimesSync(path, then, then);
}

function expectGapFree(events: AuditEvent[], count: number): void {
  expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
  for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash, `prev_hash of seq ${i + 1}`).to.equal(events[i - 1]!.hash);
}

describe('local files: recovery', () => {
  describe('log id', () => {
    it('replaces an empty audit_log.id left by a crash between creating and filling it', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'audit_log.id'), '');
      backdate(join(dir, 'audit_log.id'), 60_000);
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const event = await logger.logEvent('after the crash');
      await logger.close();
      const id = readFileSync(join(dir, 'audit_log.id'), 'utf8').trim();
      expect(id).to.match(/^[0-9a-f-]{36}$/);
      expect(event.source.log).to.equal(id);
      const again = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      expect((await again.logEvent('next')).source.log).to.equal(id);
      await again.close();
    });

    it('still refuses an id file holding something else than a log id', async () => {
      const dir = tempDir();
      writeFileSync(join(dir, 'audit_log.id'), 'not an id\n');
      backdate(join(dir, 'audit_log.id'), 60_000);
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const err = await logger.logEvent('a').then(() => undefined, (e: Error) => e);
      expect(err?.message).to.include('not a log id');
      await logger.close().catch(() => undefined);
      expect(readFileSync(join(dir, 'audit_log.id'), 'utf8')).to.equal('not an id\n');
    });

    it('gives 6 processes starting on a fresh directory at once one log id', async () => {
      const dir = tempDir();
      const startAt = String(Date.now() + 1500);
      const runs = await Promise.all(Array.from({ length: 6 }, () => runTs(CONTENDER, [dir, startAt, '5'])));
      for (const run of runs) expect(run.code, run.stderr).to.equal(0);
      const id = readFileSync(join(dir, 'audit_log.id'), 'utf8').trim();
      expect(new Set(runs.map((run) => run.stdout.trim()))).to.deep.equal(new Set([`log ${id}`]));
      expectGapFree(readJsonl(dir), 30);
    });
  });

  it('retries preparing the directory at the next event after a failure at construction', async () => {
    const root = tempDir();
    const blocker = join(root, 'volume');
    writeFileSync(blocker, 'a file where the directory should be (an unmounted volume)');
    const dir = join(blocker, 'logs');
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
    const err = await logger.logEvent('too early').then(() => undefined, (e: Error) => e);
    expect(err, 'the first event fails').to.be.instanceOf(Error);
    rmSync(blocker);
    mkdirSync(blocker);
    const first = await logger.logEvent('once mounted');
    const second = await logger.logEvent('and after');
    await logger.close();
    const id = readFileSync(join(dir, 'audit_log.id'), 'utf8').trim();
    expect([first.seq, second.seq]).to.deep.equal([1, 2]);
    expect(first.source.log, 'events carry the id of the directory, not a provisional one').to.equal(id);
    expect(readJsonl(dir).map((e) => e.source.log)).to.deep.equal([id, id]);
    expect((await verifyAuditLog(dir)).ok).to.equal(true);
    expect(existsSync(join(dir, 'audit_log.lock'))).to.equal(false);
  });

  describe("fsync 'always' across a rotation", () => {
    let restore: (() => void) | undefined;
    afterEach(() => restore?.());

    /** Records the inode of every descriptor synced (calling the real functions through). */
    function recordSyncs(): Set<number> {
      const synced = new Set<number>();
      const note = (fd: number): void => {
        synced.add(fs.fstatSync(fd).ino);
      };
      const realAsync = fs.fdatasync;
      const realSync = fs.fdatasyncSync;
      const realFsync = fs.fsyncSync;
      const stubs = [
        sinon.stub(fs, 'fdatasync').callsFake(((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
          note(fd);
          realAsync(fd, callback);
        }) as typeof fs.fdatasync),
        sinon.stub(fs, 'fdatasyncSync').callsFake((fd: number) => {
          note(fd);
          realSync(fd);
        }),
        sinon.stub(fs, 'fsyncSync').callsFake((fd: number) => {
          note(fd);
          realFsync(fd);
        }),
      ];
      restore = () => stubs.forEach((stub) => stub.restore());
      return synced;
    }

    it('syncs the events of a segment rotated away before logEvent resolves, and the directory', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always', rotation: { maxBytes: 1_500 } });
      await logger.logEvent('first');
      const synced = recordSyncs();
      // One burst: rotations happen between writes that share one group commit.
      await Promise.all(Array.from({ length: 40 }, (_, i) => logger.logEvent('burst', { i, pad: 'x'.repeat(150) })));
      const files = readdirSync(dir).filter((name) => name.startsWith('audit_log') && name.endsWith('.jsonl'));
      expect(files.length, 'rotated several times').to.be.greaterThan(3);
      for (const name of files) expect(synced.has(statSync(join(dir, name)).ino), `${name} synced`).to.equal(true);
      expect(synced.has(statSync(dir).ino), 'directory synced after the renames').to.equal(true);
      await logger.close();
      expect((await verifyAuditLog(dir)).ok).to.equal(true);
    });

    it('a sync in flight when a rotation closes the file still syncs that file (its descriptor is closed after it)', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always', rotation: { maxBytes: 1_000 } });
      await logger.logEvent('first');
      const realAsync = fs.fdatasync;
      const mismatches: string[] = [];
      let started!: () => void;
      const inFlight = new Promise<void>((r) => (started = r));
      // The real fdatasync, a little late (a busy thread pool): the descriptor must still name the same file then.
      const stub = sinon.stub(fs, 'fdatasync').callsFake(((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
        const requested = fs.fstatSync(fd).ino;
        started();
        setTimeout(() => {
          let now: number | string;
          try {
            now = fs.fstatSync(fd).ino;
          } catch (err) {
            now = (err as NodeJS.ErrnoException).code ?? 'error';
          }
          if (now !== requested) mismatches.push(`fd ${fd}: asked for inode ${requested}, syncing ${now}`);
          realAsync(fd, callback);
        }, 20);
      }) as typeof fs.fdatasync);
      restore = () => stub.restore();
      const big = logger.logEvent('big', { pad: 'x'.repeat(1_200) });
      await inFlight;
      const next = logger.logEvent('rotates first'); // the live file is over maxBytes: rotated while the sync waits
      await Promise.all([big, next]);
      await logger.close();
      expect(mismatches).to.deep.equal([]);
      expect(readdirSync(dir).filter((name) => /^audit_log\..+\.jsonl$/.test(name))).to.have.length(1);
    });
  });

  it('a secondary file that failed one event is caught up at the next lease, with no hole, even when a later event would fit', async () => {
    const dir = tempDir();
    const tsx = require.resolve('tsx/cjs');
    const fixture = resolve(__dirname, 'local-fixtures/secondary-gap.ts');
    // ulimit -f counts 1 KiB blocks: writes past 64 KiB fail with EFBIG (a full disk, for one file at a time).
    const command = `ulimit -f 64 && exec "${process.execPath}" --require "${tsx}" "${fixture}" "${dir}" 65536`;
    const out = await new Promise<string>((done, fail) => {
      const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      child.on('error', fail);
      child.on('close', (code) => (code === 0 ? done(stdout) : fail(new Error(`fixture exited ${code}: ${stderr}`))));
    });
    const { big, small } = JSON.parse(out) as { big: string; small: string };
    expect(big, 'the large event does not fit in the CSV file').to.match(/^rejected: .*audit_log\.csv/);
    expect(small, 'the next event of the lease is not written after the hole').to.match(/^rejected: .*audit_log\.csv/);
    const jsonl = readJsonl(dir);
    const csvSeqs = readCsv(dir).map((e) => e.seq);
    expect(csvSeqs, 'no hole in the CSV file').to.deep.equal(Array.from({ length: csvSeqs.length }, (_, i) => i + 1));
    // Without the limit, the next writer copies what the CSV file missed, then logs.
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    await logger.logEvent('after');
    await logger.close();
    expect(warnings.some((w) => w.startsWith('SECONDARY_CAUGHT_UP'))).to.equal(true);
    expect(readCsv(dir).map((e) => e.seq)).to.deep.equal(Array.from({ length: jsonl.length + 1 }, (_, i) => i + 1));
    const report = await verifyAuditLog(dir);
    expect(report.ok, JSON.stringify(report.problem)).to.equal(true);
  });

  describe('stale lock broken by several writers at once', () => {
    const HOLDER = resolve(__dirname, '../../../test/fixtures/lock-holder.ts');

    /** The pid of a process that has exited. */
    function deadPid(): number {
      return spawnSync(process.execPath, ['-e', '']).pid!;
    }

    it('waits while another live writer is breaking the lock, and breaks it once that writer is gone', async () => {
      const dir = tempDir();
      const lock = join(dir, 'audit_log.lock');
      writeFileSync(lock, `${deadPid()} ${hostname()} 0123456789abcdef\n`);
      // A live writer (this process, as another writer would) is breaking it.
      writeFileSync(lock + '.break', `${process.pid} ${hostname()} fedcba9876543210\n`);
      const waiting = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 300 });
      const err = await waiting.logEvent('a').then(() => undefined, (e: Error) => e);
      expect(err, 'not broken under a live breaker').to.be.instanceOf(LockTimeoutError);
      expect(readFileSync(lock, 'utf8')).to.include('0123456789abcdef');
      await waiting.close().catch(() => undefined);
      // The breaker dies without cleaning up: its file is abandoned and the lock is broken.
      writeFileSync(lock + '.break', `${deadPid()} ${hostname()} fedcba9876543210\n`);
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 2_000 });
      const warnings: string[] = [];
      logger.on('warning', (w) => warnings.push(w.code));
      await logger.logEvent('b');
      await logger.close();
      expect(warnings).to.include('STALE_LOCK_BROKEN');
      expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock'))).to.deep.equal([]);
    });

    it('6 processes finding a SIGKILLed holder\'s lock at once: one holder at a time, a gap-free chain', async () => {
      const dir = tempDir();
      let expected = 0;
      for (let round = 0; round < 2; round++) {
        const holder = spawnTs(HOLDER, [dir, 'jsonl']);
        const exited = new Promise((r) => holder.on('exit', r));
        await saidBy(holder).until('holding');
        expected += 1;
        // The contenders start together, well after the kill: every one finds the dead holder's lock.
        const startAt = String(Date.now() + 2_500);
        const runs = Array.from({ length: 6 }, () => runTs(CONTENDER, [dir, startAt, '25']));
        holder.kill('SIGKILL');
        await exited;
        expect(existsSync(join(dir, 'audit_log.lock')), 'left behind by the holder').to.equal(true);
        for (const run of await Promise.all(runs)) expect(run.code, run.stderr).to.equal(0);
        expected += 6 * 25;
      }
      expectGapFree(readJsonl(dir), expected);
      expect((await verifyAuditLog(dir)).ok).to.equal(true);
      expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock'))).to.deep.equal([]);
    });
  });

  it('getLogSummary and readEvents(dir) count every segment of a rotated journal, not the live file alone', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], rotation: { maxBytes: 2_000 } });
    for (let i = 0; i < 30; i++) await logger.logEvent(i % 3 === 0 ? 'train' : 'eval', { i, pad: 'x'.repeat(100) });
    const segments = readdirSync(dir).filter((name) => /^audit_log\..+\.jsonl$/.test(name));
    expect(segments.length, 'rotated').to.be.greaterThan(2);
    const summary = await logger.getLogSummary();
    await logger.close();
    expect(summary.total_events).to.equal(30);
    const seqs: number[] = [];
    for await (const event of readEvents(dir)) seqs.push(event.seq);
    expect(seqs).to.deep.equal(Array.from({ length: 30 }, (_, i) => i + 1));
  });
});
