// The delivery lease file itself: who may take it, when a holder is judged gone, and how a holder learns it lost it.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { dirname, join } from 'node:path';
import { Worker } from 'node:worker_threads';
import sinon from 'sinon';
import { CursorStore } from '../src/delivery/cursor';
import { DeliveryLease } from '../src/delivery/lease';
import { LeasedJournalSource } from '../src/delivery/source';
import { pidNamespace } from '../src/files/process-info';
import { tempDir } from '../../../test/helpers/tmp';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A lease path in a fresh directory (its .delivery directory made). */
function leasePath(): string {
  const dir = join(tempDir(), '.delivery');
  fs.mkdirSync(dir, { mode: 0o700 });
  return join(dir, 'remote.lease');
}
/** A lease line in the on-disk field order: pid, start time, host, token, pid namespace[, thread]. */
const line = (pid: number, start: string, host: string, token: string, extra = '') => `${pid} ${start} ${host} ${token} ${pidNamespace() ?? '-'}${extra}\n`;

/** A lease that records what it says when it breaks a stale one (`said`) or finds its own lost (`lost`). */
function lease(path: string, staleMs?: number): { lease: DeliveryLease; said: string[]; lost: string[] } {
  const said: string[] = [];
  const lost: string[] = [];
  const options = { ...(staleMs === undefined ? {} : { staleMs }), onStale: (m: string) => said.push(m), onLost: (m: string) => lost.push(m) };
  return { lease: new DeliveryLease(path, options), said, lost };
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

describe('delivery lease file', () => {
  it('is taken when free, refused while its holder lives, and handed over at release', () => {
    const path = leasePath();
    const a = lease(path).lease;
    const b = lease(path).lease;
    expect(a.tryAcquire()).to.equal(true);
    expect(readFileSync(path, 'utf8')).to.match(new RegExp(`^${process.pid} \\S+ ${hostname()} [0-9a-f]{16} `));
    expect(b.tryAcquire()).to.equal(false);
    a.release();
    expect(existsSync(path)).to.equal(false);
    expect(b.tryAcquire()).to.equal(true);
    b.release();
  });

  it('is broken when its holder on this host is dead, or its pid now belongs to a later process', async () => {
    const path = leasePath();
    const pid = await deadPid();
    writeFileSync(path, line(pid, '-', hostname(), 'aaaaaaaaaaaaaaaa'));
    const first = lease(path);
    expect(first.lease.tryAcquire()).to.equal(true);
    expect(first.said).to.have.length(1);
    expect(first.said[0]).to.include(`holder pid ${pid} on ${hostname()} is gone`);
    first.lease.release();

    // Our own pid with another start time: a previous process that had this pid.
    writeFileSync(path, line(process.pid, '1', hostname(), 'bbbbbbbbbbbbbbbb'));
    const second = lease(path);
    expect(second.lease.tryAcquire()).to.equal(true);
    expect(second.said).to.have.length(1);
    second.lease.release();
  });

  it('from another host, is taken over only once untouched for the stale time', async () => {
    const path = leasePath();
    writeFileSync(path, line(4242, '-', 'another-host', 'cccccccccccccccc'));
    const mine = lease(path, 1000);
    expect(mine.lease.tryAcquire()).to.equal(false);
    expect(readFileSync(path, 'utf8')).to.include('another-host');
    await sleep(1100);
    expect(mine.lease.tryAcquire()).to.equal(true);
    expect(mine.said[0]).to.include('holder pid 4242 on another-host is gone');
    expect(readFileSync(path, 'utf8')).to.include(`${process.pid} `);
    mine.lease.release();
  });

  it('left empty by a crash, is broken after a grace of two seconds', async function () {
    this.timeout(10_000);
    const path = leasePath();
    writeFileSync(path, '');
    const mine = lease(path);
    expect(mine.lease.tryAcquire()).to.equal(false);
    await sleep(2100);
    expect(mine.lease.tryAcquire()).to.equal(true);
    expect(mine.said[0]).to.include('was empty');
    mine.lease.release();
  });

  it('when it cannot be read, is judged by its age and never broken as an empty one', async function () {
    this.timeout(10_000);
    const path = leasePath();
    writeFileSync(path, line(4242, '-', hostname(), 'dddddddddddddddd'));
    // Tests run as root, who reads any file: the EACCES another user would get is made here.
    const real = fs.readFileSync;
    const read = sinon.stub(fs, 'readFileSync').callsFake(((file: fs.PathOrFileDescriptor, options?: unknown) => {
      if (typeof file === 'string' && file.startsWith(path)) throw Object.assign(new Error(`EACCES: permission denied, open '${path}'`), { code: 'EACCES', syscall: 'open' });
      return real(file, options as BufferEncoding);
    }) as typeof fs.readFileSync);
    try {
      const mine = lease(path, 3000);
      await sleep(2200); // past the grace after which an empty lease is broken
      expect(mine.lease.tryAcquire()).to.equal(false);
      expect(existsSync(path)).to.equal(true);
      await sleep(1000);
      expect(mine.lease.tryAcquire()).to.equal(true);
      expect(mine.said[0]).to.include('could not be read');
    } finally {
      read.restore();
    }
    expect(readFileSync(path, 'utf8')).to.include(`${process.pid} `);
  });

  it('a holder learns at its next touch that another logger took the lease, says so, and leaves that lease alone', () => {
    const path = leasePath();
    const { lease: mine, lost } = lease(path);
    expect(mine.tryAcquire()).to.equal(true);
    mine.touch();
    expect(mine.isHeld).to.equal(true);
    // Another host judged us gone (our loop stalled past the stale time), broke the lease and took it.
    fs.unlinkSync(path);
    const theirs = line(4242, '-', 'another-host', 'eeeeeeeeeeeeeeee');
    writeFileSync(path, theirs);
    fs.utimesSync(path, new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    const before = statSync(path).mtimeMs;
    mine.touch();
    expect(mine.isHeld).to.equal(false);
    expect(lost).to.have.length(1);
    expect(lost[0]).to.include(`${path} was taken by pid 4242 on another-host`);
    expect(statSync(path).mtimeMs).to.equal(before);
    mine.release();
    expect(readFileSync(path, 'utf8')).to.equal(theirs);
  });

  it('a holder whose lease was removed learns it at its next touch', () => {
    const path = leasePath();
    const { lease: mine, lost } = lease(path);
    expect(mine.tryAcquire()).to.equal(true);
    fs.unlinkSync(path);
    mine.touch();
    expect(mine.isHeld).to.equal(false);
    expect(lost).to.deep.equal([`${path} was removed (this logger was judged gone): it follows from now on`]);
    mine.touch();
    expect(lost).to.have.length(1);
    expect(existsSync(path)).to.equal(false);
  });

  it('a holder keeps its lease file touched by itself, however seldom its engine polls, and stops once it let go', async () => {
    const path = leasePath();
    const mine = lease(path, 1000).lease; // touched every 250 ms
    expect(mine.tryAcquire()).to.equal(true);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(path, old, old);
    await sleep(400);
    expect(Date.now() - statSync(path).mtimeMs).to.be.below(1000);
    const touch = sinon.spy(mine, 'touch');
    mine.release();
    writeFileSync(path, line(4242, '-', 'another-host', 'ffffffffffffffff'));
    fs.utimesSync(path, old, old);
    await sleep(400);
    expect(touch.callCount, 'the keep-alive timer is stopped').to.equal(0);
    expect(Date.now() - statSync(path).mtimeMs).to.be.above(50_000);
  });

  it('breaks an empty lease only if it is still the file it judged: a fresh one, caught between its creation and its write, is put back', async function () {
    this.timeout(10_000);
    const path = leasePath();
    writeFileSync(path, '');
    await sleep(2100);
    const mine = lease(path);
    const real = fs.renameSync;
    let fresh = -1;
    const rename = sinon.stub(fs, 'renameSync').callsFake((from: fs.PathLike, to: fs.PathLike) => {
      if (from === path && fresh < 0) {
        // Meanwhile another logger broke the old one and created its own, not yet written (it may get the
        // inode number just freed: the birth time tells them apart).
        fs.unlinkSync(path);
        writeFileSync(path, '');
        fresh = statSync(path).ino;
      }
      real(from, to);
    });
    try {
      expect(mine.lease.tryAcquire()).to.equal(false);
    } finally {
      rename.restore();
    }
    expect(mine.said).to.deep.equal([]);
    expect(statSync(path).ino, 'the fresh lease, put back').to.equal(fresh);
    expect(fs.readdirSync(dirname(path))).to.deep.equal(['remote.lease']);
  });

  it('a source that cannot start reading gives the lease back: at construction it throws, later it warns and tries again', () => {
    const path = leasePath();
    const cursor = new CursorStore(dirname(path), 'remote');
    const failing = () => {
      throw new Error('EIO: i/o error, open audit_log.jsonl');
    };
    const first = new DeliveryLease(path);
    expect(() => new LeasedJournalSource(first, cursor, failing, () => undefined)).to.throw('EIO');
    expect(first.isHeld).to.equal(false);
    expect(existsSync(path)).to.equal(false);

    const other = new DeliveryLease(path);
    expect(other.tryAcquire()).to.equal(true);
    const warned: string[] = [];
    const second = new DeliveryLease(path);
    const source = new LeasedJournalSource(second, cursor, failing, (code, message) => warned.push(`${code}: ${message}`), 0);
    expect(source.following).to.equal(true);
    other.release();
    expect(source.refresh()).to.equal(undefined);
    expect(warned).to.have.length(1);
    expect(warned[0]).to.match(/^LEASE_TAKE_FAILED: .*remote\.lease: cannot start delivering from the cursor: EIO/);
    expect(second.isHeld).to.equal(false);
    expect(existsSync(path)).to.equal(false);
    expect(source.following).to.equal(true);
  });

  it('a cursor write deferred by the throttle that fails is reported, not thrown from a timer, and leaves no temp file', async () => {
    const dir = dirname(leasePath());
    const errors: unknown[] = [];
    const cursor = new CursorStore(dir, 'remote', 50, (err) => errors.push(err));
    cursor.save({ file: 'audit_log.jsonl', ino: 1, offset: 10, seq: 1 }); // written now
    cursor.save({ file: 'audit_log.jsonl', ino: 1, offset: 20, seq: 2 }); // deferred
    const real = fs.fsyncSync;
    const sync = sinon.stub(fs, 'fsyncSync').callsFake(() => {
      throw Object.assign(new Error('ENOSPC: no space left on device, fsync'), { code: 'ENOSPC' });
    });
    try {
      await sleep(150);
    } finally {
      sync.restore();
    }
    expect(real).to.be.a('function');
    expect(errors).to.have.length(1);
    expect((errors[0] as Error).message).to.include('ENOSPC');
    expect(fs.readdirSync(dir)).to.deep.equal(['remote.cursor']);
    expect(JSON.parse(readFileSync(join(dir, 'remote.cursor'), 'utf8'))).to.include({ seq: 1 });
  });

  it("a worker thread's lease is marked with its thread and, once the worker is gone, judged by its age", async () => {
    const path = leasePath();
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const { DeliveryLease } = require(workerData.module);
       parentPort.postMessage(new DeliveryLease(workerData.path).tryAcquire());`,
      { eval: true, workerData: { path, module: join(dirname(require.resolve('@auditrail/core')), 'delivery', 'lease.js') } },
    );
    const took = await new Promise((resolve, reject) => worker.once('message', resolve).once('error', reject));
    expect(took).to.equal(true);
    await worker.terminate(); // no exit handler runs: the lease stays, with this process's live pid
    expect(readFileSync(path, 'utf8')).to.match(new RegExp(`^${process.pid} .* thread:\\d+\\n$`));
    const mine = lease(path, 1000);
    expect(mine.lease.tryAcquire()).to.equal(false);
    await sleep(1100);
    expect(mine.lease.tryAcquire()).to.equal(true);
    expect(mine.said[0]).to.match(new RegExp(`holder pid ${process.pid} thread:\\d+ on `));
    mine.lease.release();
  });
});
