// The lock taken by hard-linking each writer's holder file: one inode per writer, swept when its writer died, and the O_EXCL fallback.
import { expect } from 'chai';
import fs from 'node:fs';
import { existsSync, linkSync, readdirSync, readFileSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { Worker } from 'node:worker_threads';
import sinon from 'sinon';
import { AuditLogger, LockTimeoutError, pipelineStatuses, type AuditEvent } from '@auditrail/core';
import { Journal } from '../src/journal';
import { saidBy, spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { leaseEnds, readFormat, rejectionOf } from './helpers';

const holderFiles = (dir: string): string[] => readdirSync(dir).filter((name) => name.startsWith('audit_log.lock.holder-'));

/** A worker thread with a logger on `dir` running `body` (which may use `logger` and `say(message)`); `said(m)` resolves once it said m. */
function loggingWorker(dir: string, options: Record<string, unknown>, body: string): { worker: Worker; said(message: string): Promise<void> } {
  const worker = new Worker(
    `const { parentPort, workerData } = require('node:worker_threads');
     const { AuditLogger } = require(workerData.core);
     const logger = new AuditLogger({ ...workerData.options, rootLogDir: workerData.dir });
     const say = (message) => parentPort.postMessage(message);
     (async () => {
       ${body}
     })();`,
    { eval: true, workerData: { dir, core: require.resolve('@auditrail/core'), options } },
  );
  const heard = new Set<string>();
  const failed = new Promise<never>((_, fail) => worker.once('error', fail));
  const arrived = new Map<string, () => void>();
  worker.on('message', (m: string) => {
    heard.add(m);
    arrived.get(m)?.();
  });
  const said = (message: string): Promise<void> =>
    heard.has(message) ? Promise.resolve() : Promise.race([new Promise<void>((ok) => arrived.set(message, ok)), failed]);
  return { worker, said };
}

function expectChain(events: AuditEvent[], count: number): void {
  expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
  for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash).to.equal(events[i - 1]!.hash);
}

describe('directory lock: holder files', () => {
  it('takes the lock by linking its holder file (one inode, no new one per turn), and close leaves neither file', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('first');
    const [holder] = holderFiles(dir);
    expect(holder, 'a holder file beside the lock').to.be.a('string');
    const holderPath = join(dir, holder!);
    const held = statSync(lockPath);
    expect(held.ino, 'the lock file is the holder file').to.equal(statSync(holderPath).ino);
    expect(held.nlink).to.equal(2);
    expect(held.mode & 0o777).to.equal(0o600);
    expect(readFileSync(lockPath, 'utf8')).to.match(new RegExp(`^${process.pid} ${hostname()} [0-9a-f]{16} `));
    await leaseEnds();
    expect(existsSync(lockPath), 'released at the end of the turn').to.equal(false);
    expect(statSync(holderPath).nlink).to.equal(1);
    for (let i = 0; i < 5; i++) {
      await logger.logEvent('again', { i });
      expect(statSync(lockPath).ino, 'the same inode at every turn').to.equal(held.ino);
      await new Promise((r) => setImmediate(r));
    }
    await logger.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock'))).to.deep.equal([]);
    expectChain(readFormat(dir, 'jsonl'), 6);
  });

  it("removes the holder file of a writer killed with SIGKILL when the next writer starts, and keeps a live writer's", async () => {
    const dir = tempDir();
    const child = spawnTs(resolve(__dirname, '../../../test/fixtures/log-then-wait.ts'), [dir, '60000']);
    const exited = new Promise((r) => child.on('exit', r));
    await saidBy(child).until('logged');
    const [childHolder] = holderFiles(dir);
    expect(childHolder, "the child's holder file").to.be.a('string');
    // A live writer's holder file stays.
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('while the child lives');
    expect(holderFiles(dir)).to.include(childHolder);
    await logger.close();
    child.kill('SIGKILL');
    await exited;
    expect(holderFiles(dir), 'left behind by the kill').to.deep.equal([childHolder]);
    const next = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await next.logEvent('after the kill');
    expect(holderFiles(dir)).to.not.include(childHolder);
    await next.close();
    expect(holderFiles(dir)).to.deep.equal([]);
    expectChain(readFormat(dir, 'jsonl'), 3);
  });

  it('makes its holder file again when it was removed under it (a directory cleaned by hand)', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await leaseEnds();
    for (const name of holderFiles(dir)) unlinkSync(join(dir, name));
    await logger.logEvent('b');
    expect(holderFiles(dir)).to.have.length(1);
    await logger.close();
    expectChain(readFormat(dir, 'jsonl'), 2);
  });

  it('judges a linked lock from another namespace by when it was linked (ctime), not by when its holder file was written', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 150 });
    await leaseEnds();
    // Another pod container's holder file, written two minutes ago and linked as the lock just now.
    const theirs = join(dir, 'audit_log.lock.holder-0123456789abcdef');
    writeFileSync(theirs, `4242 ${hostname()} 0123456789abcdef 4242 pid:[1]\n`);
    const old = new Date(Date.now() - 120_000);
    utimesSync(theirs, old, old);
    linkSync(theirs, lockPath);
    const err = await rejectionOf(logger.logEvent('a'));
    expect(err, 'a lock linked just now is fresh').to.be.instanceOf(LockTimeoutError);
    expect(existsSync(lockPath)).to.equal(true);
    await logger.close();
  });

  it("keeps a linked lock fresh when its holder file's name is removed, and sweeps no live writer's holder file from elsewhere", async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    // Another pod container's holder files: one linked as the lock, one idle; both written two minutes ago.
    const linked = join(dir, 'audit_log.lock.holder-0123456789abcdef');
    const idle = join(dir, 'audit_log.lock.holder-fedcba9876543210');
    const old = new Date(Date.now() - 120_000);
    writeFileSync(linked, `4242 ${hostname()} 0123456789abcdef 4242 pid:[1]\n`);
    writeFileSync(idle, `4243 ${hostname()} fedcba9876543210 4243 pid:[1]\n`);
    utimesSync(linked, old, old);
    utimesSync(idle, old, old);
    linkSync(linked, lockPath);
    unlinkSync(linked); // its name removed by hand: the lock is left with one link and an old mtime
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 150 });
    const err = await rejectionOf(logger.logEvent('a'));
    expect(err, 'a lock linked just now is fresh').to.be.instanceOf(LockTimeoutError);
    expect(existsSync(lockPath)).to.equal(true);
    expect(existsSync(idle), 'a holder file from another namespace, unused for minutes, may be a live writer’s').to.equal(true);
    await logger.close();
  });

  it("never removes another writer's lock at release, when its own was broken and the lock taken meanwhile", async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    // Within the lease: broken as stale by a writer on another host, which then took the lock.
    unlinkSync(lockPath);
    writeFileSync(lockPath, '4242 some-other-host 0123456789abcdef\n');
    await leaseEnds();
    expect(readFileSync(lockPath, 'utf8'), 'the other writer’s lock is left alone').to.include('some-other-host');
    unlinkSync(lockPath);
    await logger.close();
  });

  it('takes a lock file with O_EXCL in a worker thread (terminate() runs no exit handler), and leaves no holder file', async () => {
    const dir = tempDir();
    const { worker, said } = loggingWorker(
      dir,
      { format: 'jsonl' },
      `for (let i = 0; i < 3; i++) {
         await logger.logEvent('in a worker', { i });
         await new Promise((r) => setImmediate(r));
       }
       say('logged');
       setInterval(() => {}, 1000); // alive until terminate(), which runs no exit handler`,
    );
    await said('logged');
    await worker.terminate();
    expect(holderFiles(dir)).to.deep.equal([]);
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('after the worker');
    await logger.close();
    expectChain(readFormat(dir, 'jsonl'), 4);
  });

  it("breaks by its age the lock of a worker terminated while it held it (its pid lives on)", async () => {
    const dir = tempDir();
    const { worker, said } = loggingWorker(
      dir,
      { format: 'jsonl' },
      `await logger.logEvent('in a worker');
       say('logging');
       for (;;) await logger.logEvent('in a worker'); // never yields: the lease is held until terminate()`,
    );
    await said('logging');
    await worker.terminate();
    const lockPath = join(dir, 'audit_log.lock');
    expect(readFileSync(lockPath, 'utf8'), "the worker's lock, left behind").to.match(new RegExp(`^${process.pid} .* thread:\\d+\\n$`));
    const started = Date.now();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockStaleMs: 1000, lockTimeoutMs: 5000 });
    const event = await logger.logEvent('after the worker');
    expect(Date.now() - started, 'not before the lock is 1 s old').to.be.at.least(900);
    await logger.close();
    const events = readFormat(dir, 'jsonl');
    expectChain(events, event.seq);
  });

  it("does not break the lock of a live worker whose lease lasts longer than lockStaleMs (a loop that never ends its turn)", async () => {
    const dir = tempDir();
    const { worker, said } = loggingWorker(
      dir,
      { format: 'jsonl', fsync: 'never', lockStaleMs: 1000 },
      `await logger.logEvent('in a worker');
       say('logging');
       const until = Date.now() + 2500;
       while (Date.now() < until) await logger.logEvent('in a worker'); // settled awaits: one turn, one lease
       await logger.close();
       say('done');`,
    );
    const done = said('done');
    await said('logging');
    await new Promise((r) => setTimeout(r, 1500)); // the worker's lease is now older than lockStaleMs
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', lockStaleMs: 1000, lockTimeoutMs: 5000 });
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    await logger.logEvent('from the main thread');
    await done;
    await logger.close();
    await worker.terminate();
    expect(warnings.filter((w) => w.startsWith('STALE_LOCK_BROKEN'))).to.deep.equal([]);
    const events = readFormat(dir, 'jsonl');
    expectChain(events, events.length);
  });

  it('notices a lease broken by another writer while it lasted (LOCK_LOST), takes the lock again and keeps the chain', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', lockStaleMs: 1000 });
    const warnings: string[] = [];
    const recorded: Promise<unknown>[] = [];
    logger.on('warning', (w) => {
      warnings.push(w.code);
      // A handler that records warnings in the trail itself must not re-enter the lock's recovery.
      if (w.code === 'LOCK_LOST' || w.code === 'STALE_LOCK_BROKEN') recorded.push(logger.logEvent('lock warning', { code: w.code }));
    });
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    const started = Date.now();
    let replaced = false;
    let count = 0;
    while (Date.now() - started < 600) {
      await logger.logEvent('tight loop'); // settled awaits: one turn, one lease
      count++;
      if (!replaced && Date.now() - started > 50) {
        // Another writer broke the lease and took the lock, then died (its lock is stale at once).
        unlinkSync(lockPath);
        writeFileSync(lockPath, `${dead} ${hostname()} 0123456789abcdef\n`);
        replaced = true;
      }
    }
    await Promise.all(recorded);
    await logger.close();
    expect(warnings.filter((code) => code === 'LOCK_LOST')).to.have.length(1);
    expect(warnings.filter((code) => code === 'STALE_LOCK_BROKEN')).to.have.length(1);
    const events = readFormat(dir, 'jsonl');
    expect(events.filter((e) => e.action_type === 'lock warning').map((e) => e.details.code)).to.have.members(['LOCK_LOST', 'STALE_LOCK_BROKEN']);
    expectChain(events, count + 2);
  });

  it('a writer that stalls past lockStaleMs while holding the lock, which another writer then breaks and appends under, notices at its next event: no fork', async () => {
    const dir = tempDir();
    const wake = new Int32Array(new SharedArrayBuffer(4));
    const { worker, said } = loggingWorker(
      dir,
      { format: ['jsonl', 'csv'], fsync: 'never', lockStaleMs: 1000, lockTimeoutMs: 5000, wake },
      `const warned = [];
       logger.on('warning', (w) => warned.push(w.code));
       await logger.logEvent('before the stall'); // settled: the turn and the lease go on
       say('holding');
       Atomics.wait(workerData.options.wake, 0, 0); // stalled inside its lease (a long synchronous call)
       await logger.logEvent('after the stall');
       await logger.close();
       say('warned ' + warned.join(','));
       say('done');`,
    );
    const done = said('done');
    await said('holding');
    await new Promise((r) => setTimeout(r, 1300)); // the worker's lock is now older than lockStaleMs
    const other = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'], fsync: 'never', lockStaleMs: 1000, lockTimeoutMs: 5000 });
    const warnings: string[] = [];
    other.on('warning', (w) => warnings.push(w.code));
    await other.logEvent('while it stalls');
    await other.logEvent('while it stalls');
    await other.close();
    Atomics.store(wake, 0, 1);
    Atomics.notify(wake, 0);
    await said('warned LOCK_LOST');
    await done;
    await worker.terminate();
    expect(warnings).to.include('STALE_LOCK_BROKEN');
    expect(existsSync(join(dir, 'audit_log.lock.wait')), 'the wait file of the writer that broke the lock').to.equal(false);
    for (const format of ['jsonl', 'csv'] as const) {
      const events = readFormat(dir, format);
      expect(events.map((e) => e.action_type), format).to.deep.equal(['before the stall', 'while it stalls', 'while it stalls', 'after the stall']);
      expectChain(events, 4);
    }
  });

  it("removes the holder file of a writer SIGKILLed while holding the lock, once it broke that lock (it was the lock, so not swept before)", async () => {
    const dir = tempDir();
    const holder = spawnTs(resolve(__dirname, '../../../test/fixtures/lock-holder.ts'), [dir, 'jsonl']);
    const exited = new Promise((r) => holder.on('exit', r));
    await saidBy(holder).until('holding');
    holder.kill('SIGKILL');
    await exited;
    expect(holderFiles(dir), "the killed writer's, linked as the lock").to.have.length(1);
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('after the kill');
    await logger.close();
    expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock'))).to.deep.equal([]);
  });

  it('refreshes the mtime of its holder file when it links it, so that the lock looks as old as it is to writers that judge by mtime', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('a');
    await leaseEnds();
    const [holder] = holderFiles(dir);
    const old = new Date(Date.now() - 120_000);
    utimesSync(join(dir, holder!), old, old);
    await new Promise((r) => setTimeout(r, 1100)); // it sets the mtime at most once a second
    const before = Date.now();
    await logger.logEvent('b');
    expect(statSync(lockPath).mtimeMs).to.be.at.least(before - 1000);
    await logger.close();
  });

  it('counts a link that failed with EEXIST although it was made (an NFS reply lost) as taken', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const real = fs.linkSync;
    const link = sinon.stub(fs, 'linkSync').callsFake((from: fs.PathLike, to: fs.PathLike) => {
      if (to !== lockPath) return real(from, to);
      // Made, on a server whose links report an inode number of their own: only the token says it is ours.
      fs.copyFileSync(from, to);
      throw Object.assign(new Error(`EEXIST: file already exists, link '${String(from)}' -> '${lockPath}'`), { code: 'EEXIST', syscall: 'link' });
    });
    try {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 300 });
      await logger.logEvent('a');
      await leaseEnds();
      await logger.logEvent('b');
      await logger.close();
    } finally {
      link.restore();
    }
    expectChain(readFormat(dir, 'jsonl'), 2);
  });

  it('waits for a lock file it cannot read (another user’s) as for another host’s, instead of breaking it as empty', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    writeFileSync(lockPath, '4242 some-host 0123456789abcdef\n');
    // Tests run as root, who reads any file: the EACCES another user would get is made here.
    const real = fs.readFileSync;
    const read = sinon.stub(fs, 'readFileSync').callsFake(((path: fs.PathOrFileDescriptor, options?: unknown) => {
      if (path === lockPath) throw Object.assign(new Error(`EACCES: permission denied, open '${lockPath}'`), { code: 'EACCES', syscall: 'open' });
      return real(path, options as BufferEncoding);
    }) as typeof fs.readFileSync);
    try {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 2600 });
      const err = await rejectionOf(logger.logEvent('a')); // past the 2 s after which an empty lock file is broken
      expect(err).to.be.instanceOf(LockTimeoutError);
      expect(err.message).to.include('an unknown writer');
      await logger.close();
    } finally {
      read.restore();
    }
    expect(existsSync(lockPath)).to.equal(true);
  });

  it('leaks no file descriptor and no holder file over many loggers, nor from a constructor that throws', async () => {
    const dir = tempDir();
    const fds = (): number => readdirSync('/proc/self/fd').length;
    const warm = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never' });
    await warm.logEvent('warm-up');
    await warm.close();
    const before = fds();
    for (let i = 0; i < 20; i++) {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never' });
      await logger.logEvent('one', { i });
      await logger.close();
      expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [{ name: 'no-write' } as never] })).to.throw(/has no write\(\)/);
    }
    // A symbolic link where the log file should be fails the journal's own construction.
    const planted = tempDir();
    symlinkSync(join(planted, 'elsewhere.jsonl'), join(planted, 'audit_log.jsonl'));
    expect(() => new AuditLogger({ rootLogDir: planted, format: 'jsonl' })).to.throw(/symbolic link|symlink/i);
    expect(fds()).to.equal(before);
    expect(holderFiles(dir)).to.deep.equal([]);
    expect(holderFiles(planted)).to.deep.equal([]);
  });

  it("puts back a live writer's breaker file that replaced the abandoned one it moved aside", async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const breakPath = `${lockPath}.break`;
    const { spawnSync } = await import('node:child_process');
    const dead = spawnSync(process.execPath, ['-e', '']).pid!;
    // A stale lock, and the breaker file of a writer that died while breaking it.
    writeFileSync(lockPath, `${dead} ${hostname()} 00000000000000aa\n`);
    writeFileSync(breakPath, `${dead} ${hostname()} 00000000000000bb\n`);
    // Between judging the breaker abandoned and moving it aside, a live writer (this process, another token) makes a new one.
    const live = `${process.pid} ${hostname()} 00000000000000cc\n`;
    const real = fs.renameSync;
    const rename = sinon.stub(fs, 'renameSync').callsFake((from: fs.PathLike, to: fs.PathLike) => {
      if (from === breakPath && String(to).startsWith(`${breakPath}.stale-`)) {
        unlinkSync(breakPath);
        writeFileSync(breakPath, live);
      }
      return real(from, to);
    });
    try {
      const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 300 });
      const err = await rejectionOf(logger.logEvent('a'));
      expect(err, 'the live breaker holds the lock breaking for itself').to.be.instanceOf(LockTimeoutError);
      await logger.close();
    } finally {
      rename.restore();
    }
    expect(readFileSync(breakPath, 'utf8'), 'put back').to.equal(live);
    expect(existsSync(lockPath), 'not broken by a second breaker').to.equal(true);
  });

  it('closes the sinks it had opened when a later sink makes its constructor throw', async () => {
    const dir = tempDir();
    const calls: string[] = [];
    const first = { name: 'first', open: () => void calls.push('open'), write: () => undefined, close: () => void calls.push('close') };
    const failing = {
      name: 'failing',
      open: () => {
        throw new Error('cannot reach the collector');
      },
      write: () => undefined,
    };
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [first, failing] })).to.throw(/cannot reach the collector/);
    await new Promise((r) => setImmediate(r));
    expect(calls).to.deep.equal(['open', 'close']);
  });

  it('a journal abandoned by a failed constructor takes no lease again when a delivery poll still calls refresh()', async () => {
    const dir = tempDir();
    const warnings: string[] = [];
    const context = { rootLogDir: dir, statuses: pipelineStatuses, warn: (code: string) => void warnings.push(code) };
    const journal = new Journal(
      { rootLogDir: dir, formats: ['csv'], order: 'oldest-first', fsync: 'never', fsyncIntervalMs: 1000, hmacKey: undefined, lockTimeoutMs: 1000, lockStaleMs: 30_000, allowSymlink: false, maxDetailsBytes: 65_536 },
      context,
    );
    await leaseEnds();
    journal.abandon();
    expect(holderFiles(dir), 'the holder file, removed by abandon()').to.deep.equal([]);
    journal.refresh(); // the engine's poll, due before its close cleared it
    await leaseEnds();
    expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock'))).to.deep.equal([]);
    expect(warnings).to.deep.equal([]);
  });

  it('opens no sink when one of the sinks given is not a sink: every sink is checked first', async () => {
    const dir = tempDir();
    const calls: string[] = [];
    const first = { name: 'first', open: () => void calls.push('open'), write: () => undefined, close: () => void calls.push('close') };
    expect(() => new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [first, { name: 'broken' } as never] })).to.throw(/has no write\(\)/);
    await new Promise((r) => setImmediate(r));
    expect(calls).to.deep.equal([]);
    expect(readdirSync(dir)).to.deep.equal([]);
  });

  describe('on a filesystem without hard links', () => {
    // No such filesystem can be mounted here (no vfat module, no FUSE tooling): link(2) is made to fail as vfat's does.
    let link: sinon.SinonStub;
    beforeEach(() => {
      link = sinon.stub(fs, 'linkSync').throws(Object.assign(new Error('EPERM: operation not permitted, link'), { code: 'EPERM', errno: -1, syscall: 'link' }));
    });
    afterEach(() => link.restore());

    it('falls back to lock files created with O_EXCL, and leaves no holder file', async () => {
      const dir = tempDir();
      const lockPath = join(dir, 'audit_log.lock');
      const logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
      for (let i = 0; i < 3; i++) {
        await logger.logEvent('step', { i });
        const held = statSync(lockPath);
        expect(held.nlink, 'a lock file of its own').to.equal(1);
        expect(readFileSync(lockPath, 'utf8')).to.match(new RegExp(`^${process.pid} `));
        expect(holderFiles(dir)).to.deep.equal([]);
        await leaseEnds();
        expect(existsSync(lockPath)).to.equal(false);
      }
      await logger.close();
      expect(link.calledWith(sinon.match(/audit_log\.lock\.holder-[0-9a-f]{16}$/), lockPath), 'the lock tried to link its holder file').to.equal(true);
      expectChain(readFormat(dir, 'jsonl'), 3);
      expectChain(readFormat(dir, 'csv'), 3);
    });

    it('takes back its own lock file when a release could not read it (EMFILE), instead of waiting on itself', async () => {
      const dir = tempDir();
      const lockPath = join(dir, 'audit_log.lock');
      const real = fs.readFileSync;
      let failNext = false;
      const read = sinon.stub(fs, 'readFileSync').callsFake(((path: fs.PathOrFileDescriptor, options?: unknown) => {
        if (path === lockPath && failNext) {
          failNext = false;
          throw Object.assign(new Error(`EMFILE: too many open files, open '${lockPath}'`), { code: 'EMFILE', syscall: 'open' });
        }
        return real(path, options as BufferEncoding);
      }) as typeof fs.readFileSync);
      try {
        const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 300 });
        await logger.logEvent('a');
        failNext = true;
        await leaseEnds();
        expect(existsSync(lockPath), 'left: it could not tell it was its own').to.equal(true);
        await logger.logEvent('b');
        await leaseEnds();
        expect(existsSync(lockPath), 'released once it could read it').to.equal(false);
        await logger.close();
      } finally {
        read.restore();
      }
      expectChain(readFormat(dir, 'jsonl'), 2);
    });
  });
});
