// Durability: fsync 'always' with group commit, 'interval', and failed local writes (fail closed, or to the bus).
import { expect } from 'chai';
import sinon from 'sinon';
import fs, { mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { spawn } from 'node:child_process';
import { AuditLogger, AuditWriteError, type AuditError, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readCsv, readFormat, readJsonl, rejectionOf } from './helpers';

/** Wraps fs.fdatasync, calling through: counts the syncs, logs 'synced' as each completes, notes the file's size when each begins (`begunAt`) and counts those bytes durable when it ends. */
function spyOnFdatasync(onBegin: () => void = () => undefined): { calls: () => number; log: string[]; begunAt: number[]; durable: () => number; restore: () => void } {
  const real = fs.fdatasync;
  const log: string[] = [];
  const begunAt: number[] = [];
  let durable = 0;
  const spy = sinon.stub(fs, 'fdatasync').callsFake(((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
    const size = fs.fstatSync(fd).size;
    begunAt.push(size);
    onBegin();
    real(fd, (err) => {
      log.push('synced');
      if (!err) durable = Math.max(durable, size);
      callback(err);
    });
  }) as typeof fs.fdatasync);
  return { calls: () => spy.callCount, log, begunAt, durable: () => durable, restore: () => spy.restore() };
}

async function until(condition: () => boolean): Promise<void> {
  while (!condition()) await new Promise((r) => setTimeout(r, 5));
}

describe('durability', () => {
  describe("fsync 'always'", () => {
    let spy: ReturnType<typeof spyOnFdatasync> | undefined;
    afterEach(() => spy?.restore());

    it('resolves logEvent only after fdatasync, and 64 concurrent callers share one or two fsyncs (group commit)', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      spy = spyOnFdatasync();
      const first = logger.logEvent('solo').then((e) => (spy!.log.push('resolved'), e));
      await first;
      expect(spy.log).to.deep.equal(['synced', 'resolved']);
      expect(spy.calls()).to.equal(1);

      // A burst in one turn: one sync, or two when writing it took longer than the last sync (one begun mid-turn).
      const before = spy.calls();
      const events = await Promise.all(Array.from({ length: 64 }, (_, i) => logger.logEvent('burst', { i })));
      expect(spy.calls() - before).to.be.within(1, 2);
      expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: 64 }, (_, i) => i + 2));

      // Callers arriving while a sync runs share the next one: never more syncs than callers, fewer when they overlap.
      const mid = spy.calls();
      const waves: Promise<AuditEvent>[] = [];
      for (let w = 0; w < 4; w++) {
        waves.push(...Array.from({ length: 16 }, () => logger.logEvent('wave', { w })));
        await new Promise((r) => setImmediate(r));
      }
      await Promise.all(waves);
      expect(spy.calls() - mid).to.be.within(1, 4);
      await logger.close();
      expect(readJsonl(dir)).to.have.length(1 + 64 + 64);
    });

    /** The byte offset where each line of a JSONL file ends, by seq. */
    function lineEnds(dir: string): Map<number, number> {
      const ends = new Map<number, number>();
      let end = 0;
      for (const line of fs.readFileSync(join(dir, 'audit_log.jsonl'), 'utf8').split('\n').filter(Boolean)) {
        end += Buffer.byteLength(line) + 1;
        ends.set((JSON.parse(line) as AuditEvent).seq, end);
      }
      return ends;
    }

    it('a long turn of writes begins the next sync mid-turn, once its oldest write waited as long as the last sync took', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      // Faked time: each sync takes 10 ms, and 1 ms passes before each event of the burst.
      const clock = sinon.useFakeTimers({ toFake: ['performance'] });
      const coverage = spyOnFdatasync(() => clock.tick(10));
      try {
        await logger.logEvent('first');
        const durableWhenResolved = new Map<number, number>();
        const burst = Array.from({ length: 64 }, (_, i) => {
          clock.tick(1);
          return logger.logEvent('burst', { i }).then((e) => durableWhenResolved.set(e.seq, coverage.durable()));
        });
        await Promise.all(burst);
        const ends = lineEnds(dir);
        // The first sync covers 'first'; the second begins at the 11th event of the burst (10 ms after the 1st),
        // mid-turn, covering 1 + 11 lines; the last begins on the next turn and covers the other 53.
        expect(coverage.begunAt).to.deep.equal([ends.get(1), ends.get(12), ends.get(65)]);
        for (const [seq, durable] of durableWhenResolved) expect(ends.get(seq), `seq ${seq}`).to.be.at.most(durable);
      } finally {
        coverage.restore();
        clock.restore();
      }
      await logger.close();
    });

    it('callers resumed by a sync write their next events before the next sync begins, so each sync covers all of them', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      // Faked time: each sync takes 1000 ms and no time passes between events, so no sync begins mid-turn.
      const clock = sinon.useFakeTimers({ toFake: ['performance'] });
      const coverage = spyOnFdatasync(() => clock.tick(1000));
      try {
        await Promise.all(
          Array.from({ length: 8 }, async (_, caller) => {
            for (let i = 0; i < 5; i++) {
              await logger.logEvent('loop', { caller, i });
              for (let hop = 0; hop < caller * 4; hop++) await null; // some callers do more (microtask-deep) work before the next event
            }
          }),
        );
        const ends = lineEnds(dir);
        expect(coverage.begunAt).to.deep.equal([8, 16, 24, 32, 40].map((seq) => ends.get(seq)));
      } finally {
        coverage.restore();
        clock.restore();
      }
      await logger.close();
    });

    it('a logEvent nested in an event handler begins the sync mid-turn, and the outer call still learns that it failed', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      const clock = sinon.useFakeTimers({ toFake: ['performance'] });
      let failing = false;
      const real = fs.fdatasync;
      const stub = sinon.stub(fs, 'fdatasync').callsFake(((fd: number, callback: (err: NodeJS.ErrnoException | null) => void) => {
        clock.tick(10);
        real(fd, (err) => callback(failing ? Object.assign(new Error('EIO: i/o error'), { code: 'EIO' }) : err));
      }) as typeof fs.fdatasync);
      try {
        await logger.logEvent('first'); // a sync of 10 ms
        failing = true;
        let inner: Promise<unknown> | undefined;
        logger.on('event', (event) => {
          if (event.action_type !== 'outer') return;
          clock.tick(10); // the handler's work: the outer event has waited as long as a sync takes
          inner = rejectionOf(logger.logEvent('inner'));
        });
        const outer = await rejectionOf(logger.logEvent('outer'));
        expect(outer).to.be.instanceOf(AuditWriteError);
        expect(await inner).to.be.instanceOf(AuditWriteError);
        expect(stub.callCount).to.equal(2); // one sync covered both: begun by the nested call
      } finally {
        stub.restore();
        clock.restore();
      }
      await logger.close();
      expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['first', 'outer', 'inner']);
    });

    it('64 callers in a loop: each event resolves only after a sync begun after its write, and syncs are shared', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      const coverage = spyOnFdatasync();
      const durableWhenResolved = new Map<number, number>();
      let left = 2_000;
      try {
        await Promise.all(
          Array.from({ length: 64 }, async () => {
            while (left-- > 0) {
              const event = await logger.logEvent('loop', { left });
              durableWhenResolved.set(event.seq, coverage.durable());
            }
          }),
        );
      } finally {
        coverage.restore();
      }
      await logger.close();
      const ends = lineEnds(dir);
      expect(durableWhenResolved.size).to.equal(2_000);
      for (const [seq, durable] of durableWhenResolved) expect(ends.get(seq), `seq ${seq}`).to.be.at.most(durable);
      // Group commit: a sync serves many events (64 callers in one or two groups), not one each.
      expect(coverage.begunAt.length).to.be.below(2_000 / 8);
    });

    it('flush() and close() settle only after every logEvent still waiting for its sync', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'always' });
      let settled = 0;
      const calls = Array.from({ length: 16 }, (_, i) => logger.logEvent('before flush', { i }).then(() => settled++));
      await logger.flush();
      expect(settled, 'after flush').to.equal(16);
      calls.push(...Array.from({ length: 16 }, (_, i) => logger.logEvent('before close', { i }).then(() => settled++)));
      await logger.close();
      expect(settled, 'after close').to.equal(32);
      await Promise.all(calls);
    });

    it('syncs every local file of a multi-format logger', async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json', 'csv'], fsync: 'always' });
      spy = spyOnFdatasync();
      await logger.logEvent('a');
      expect(spy.calls()).to.equal(3);
      await logger.close();
    });
  });

  describe("fsync 'interval' and 'never'", () => {
    let spy: ReturnType<typeof spyOnFdatasync> | undefined;
    let clock: sinon.SinonFakeTimers | undefined;
    afterEach(() => {
      clock?.restore();
      spy?.restore();
    });

    it("'interval' syncs written data within the window, and only when something was written", async () => {
      clock = sinon.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'interval', fsyncIntervalMs: 250 });
      spy = spyOnFdatasync();
      await logger.logEvent('a');
      expect(spy.calls()).to.equal(0); // logEvent did not wait for the disk
      clock.tick(250);
      await until(() => spy!.log.length === 1);
      clock.tick(1000); // nothing new was written: no sync
      await new Promise((r) => setTimeout(r, 20));
      expect(spy.calls()).to.equal(1);
      await logger.logEvent('b');
      clock.tick(250);
      await until(() => spy!.log.length === 2);
      await logger.close(); // close syncs what is left (here nothing) and stops the timer
      clock.tick(5000);
      expect(spy.calls()).to.equal(2);
    });

    it("'never' does not sync, even on flush", async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never' });
      spy = spyOnFdatasync();
      await logger.logEvent('a');
      await logger.flush();
      await logger.close();
      expect(spy.calls()).to.equal(0);
      expect(readJsonl(dir)).to.have.length(1);
    });
  });

  describe('failed local writes', () => {
    it('a directory where the file should be rejects logEvent with AuditWriteError, and logging recovers once it is gone', async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'audit_log.jsonl'));
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
      const err = await rejectionOf(logger.logEvent('a'));
      expect(err).to.be.instanceOf(AuditWriteError);
      expect((err as AuditError).code).to.equal('WRITE_FAILED');
      expect(err.message).to.include(join(dir, 'audit_log.jsonl')).and.include('EISDIR');
      expect(await rejectionOf(logger.logEvent('b'))).to.be.instanceOf(AuditWriteError);
      rmdirSync(join(dir, 'audit_log.jsonl'));
      await new Promise((r) => setImmediate(r));
      const c = await logger.logEvent('c');
      await logger.close();
      expect(c.seq).to.equal(1);
      expect(readJsonl(dir).map((e) => e.action_type)).to.deep.equal(['c']);
    });

    it("with onError 'emit' the failure goes to the bus and logging continues", async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'audit_log.json'));
      const logger = new AuditLogger({ rootLogDir: dir, format: 'json', onError: 'emit' });
      const errors: { error: AuditError; event?: AuditEvent }[] = [];
      logger.on('error', (e) => errors.push(e));
      const a = await logger.logEvent('a', { k: 1 });
      expect(a.seq).to.equal(0); // unrecorded
      expect(a.hash).to.equal('');
      expect(errors).to.have.length(1);
      expect(errors[0]!.error).to.be.instanceOf(AuditWriteError);
      expect(errors[0]!.event).to.equal(a);
      rmdirSync(join(dir, 'audit_log.json'));
      await new Promise((r) => setImmediate(r));
      const b = await logger.logEvent('b');
      await logger.close();
      expect(b.seq).to.equal(1);
      expect(errors).to.have.length(1);
    });

    it('a log directory under a regular file (ENOTDIR) rejects every logEvent, or emits', async () => {
      const file = join(tempDir(), 'plain-file');
      writeFileSync(file, 'not a directory');
      const strict = new AuditLogger({ rootLogDir: join(file, 'logs'), format: 'csv' });
      const err = await rejectionOf(strict.logEvent('a'));
      expect(err).to.be.instanceOf(AuditWriteError);
      expect(err.message).to.include('ENOTDIR');
      expect(await rejectionOf(strict.logEvent('b'))).to.be.instanceOf(AuditWriteError);
      await strict.close();
      const lenient = new AuditLogger({ rootLogDir: join(file, 'logs'), format: 'csv', onError: 'emit' });
      const codes: string[] = [];
      lenient.on('error', ({ error }) => codes.push(error.code));
      await lenient.logEvent('a');
      await lenient.logEvent('b');
      await lenient.close();
      expect(codes).to.deep.equal(['WRITE_FAILED', 'WRITE_FAILED']);
    });

    it('a failing secondary file rejects (the event is in the primary) and the primary keeps its chain', async () => {
      const dir = tempDir();
      mkdirSync(join(dir, 'audit_log.csv'));
      const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
      const err = await rejectionOf(logger.logEvent('a'));
      expect(err).to.be.instanceOf(AuditWriteError);
      expect(err.message).to.include('audit_log.csv');
      rmdirSync(join(dir, 'audit_log.csv'));
      await new Promise((r) => setImmediate(r));
      await logger.logEvent('b');
      await logger.close();
      expect(readJsonl(dir).map((e) => e.seq)).to.deep.equal([1, 2]);
      // Once the CSV can be written again, the event it missed is copied from the primary.
      expect(readCsv(dir)).to.deep.equal(readJsonl(dir));
    });

    for (const format of ['jsonl', 'json', 'csv'] as const) {
      it(`a full disk (EFBIG under ulimit -f) rejects logEvent and leaves ${format} valid, or emits with onError 'emit'`, async () => {
        const strictDir = tempDir();
        const strict = await runLimited(strictDir, format, 'throw');
        expect(strict.resolved.length).to.be.greaterThan(3);
        expect(strict.rejected.length).to.be.greaterThan(0);
        expect(strict.rejected[0]).to.match(/^AuditWriteError:WRITE_FAILED:.*(EFBIG|too large)/);
        expect(strict.busErrors).to.deep.equal([]);
        const onDisk = readFormat(strictDir, format);
        expect(onDisk.map((e) => e.seq)).to.deep.equal(strict.resolved);

        const lenientDir = tempDir();
        const lenient = await runLimited(lenientDir, format, 'emit');
        expect(lenient.rejected).to.deep.equal([]);
        expect(lenient.busErrors.length).to.be.greaterThan(0);
        expect(lenient.busErrors[0]).to.equal('AuditWriteError:WRITE_FAILED');
        const recorded = lenient.resolved.filter((s) => s > 0);
        expect(readFormat(lenientDir, format).map((e) => e.seq)).to.deep.equal(recorded);
      });
    }
  });
});

const FIXTURE = resolve(__dirname, '../../../test/fixtures/full-disk-writer.ts');

/** Runs the full-disk fixture with a 16 KiB file size limit. */
function runLimited(dir: string, format: string, onError: string): Promise<{ resolved: number[]; rejected: string[]; busErrors: string[] }> {
  // In KiB. The JSON array starts with a reserve of 16 KiB, and fails when a regrown copy would pass the limit.
  const limit = format === 'json' ? 48 : 16;
  return new Promise((done, fail) => {
    const tsx = require.resolve('tsx/cjs');
    const command = `ulimit -f ${limit} && exec "${process.execPath}" --require "${tsx}" "${FIXTURE}" "${dir}" ${format} ${onError}`;
    const child = spawn('bash', ['-c', command], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TSX_DISABLE_CACHE: '1' } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.on('error', fail);
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`fixture exited ${code}: ${err}`));
      done(JSON.parse(out) as { resolved: number[]; rejected: string[]; busErrors: string[] });
    });
  });
}
