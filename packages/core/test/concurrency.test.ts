// One process: concurrent writers, two loggers on one directory (the seed's lost-events bug), and the directory lock.
import { expect } from 'chai';
import fs, { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import sinon from 'sinon';
import { FileLock } from '../src/files/lock';
import { join, resolve } from 'node:path';
import { AuditLogger, LockTimeoutError, type AuditEvent } from '@auditrail/core';
import { runTs, saidBy, spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { readFormat, rejectionOf, leaseEnds } from './helpers';

const FORMATS = ['json', 'jsonl', 'csv'] as const;

function expectIntactChain(events: AuditEvent[], count: number): void {
  const inOrder = [...events].sort((a, b) => a.seq - b.seq);
  expect(inOrder.map((e) => e.seq)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
  for (let i = 1; i < inOrder.length; i++) expect(inOrder[i]!.prev_hash, `prev_hash of seq ${i + 1}`).to.equal(inOrder[i - 1]!.hash);
}

const pause = (): Promise<void> => new Promise((r) => (Math.random() < 0.5 ? setImmediate(r) : setTimeout(r, 0)));

describe('concurrency in one process', () => {
  for (const format of FORMATS) {
    it(`16 concurrent writers lose nothing and are ordered by seq (${format})`, async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format });
      const writer = async (w: number): Promise<number[]> => {
        const seqs: number[] = [];
        for (let i = 0; i < 40; i++) {
          seqs.push((await logger.logEvent('write', { w, i, text: `writer ${w} «${i}» ✓` })).seq);
          if (i % 3 === w % 3) await pause();
        }
        return seqs;
      };
      const results = await Promise.all(Array.from({ length: 16 }, (_, w) => writer(w)));
      await logger.close();
      const events = readFormat(dir, format);
      expectIntactChain(events, 640);
      for (const seqs of results) expect([...seqs].sort((a, b) => a - b)).to.deep.equal(seqs);
      expect(new Set(results.flat()).size).to.equal(640);
    });

    it(`two loggers on one directory interleave without losing events (${format})`, async () => {
      const dir = tempDir();
      const a = new AuditLogger({ rootLogDir: dir, format, experimentName: 'a' });
      const b = new AuditLogger({ rootLogDir: dir, format, experimentName: 'b' });
      const returned: AuditEvent[] = [];
      for (let i = 0; i < 30; i++) {
        returned.push(await a.logEvent('from a', { i }));
        returned.push(await b.logEvent('from b', { i }));
        if (i % 5 === 0) await pause();
      }
      returned.push(...(await Promise.all([a.logEvent('race a'), b.logEvent('race b'), a.logEvent('race a'), b.logEvent('race b')])));
      expect((await a.getLogSummary()).total_events).to.equal(64);
      await Promise.all([a.close(), b.close()]);
      const events = readFormat(dir, format);
      expectIntactChain(events, 64);
      expect(returned.map((e) => e.seq).sort((x, y) => x - y)).to.deep.equal(Array.from({ length: 64 }, (_, i) => i + 1));
      expect(events.filter((e) => e.source.experiment === 'b')).to.have.length(32);
    });
  }
});

describe('directory lock', () => {
  const HOLDER = resolve(__dirname, '../../../test/fixtures/lock-holder.ts');

  it('breaks the lock left by a SIGKILLed writer and logging continues', async () => {
    const dir = tempDir();
    const child = spawnTs(HOLDER, [dir, 'jsonl']);
    const exited = new Promise((r) => child.on('exit', r));
    await saidBy(child).until('holding');
    const lockPath = join(dir, 'audit_log.lock');
    expect(readFileSync(lockPath, 'utf8').split(' ')[0]).to.equal(String(child.pid));

    // While the holder lives, a writer times out with an error naming the holder.
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 200 });
    const err = await rejectionOf(logger.logEvent('blocked'));
    expect(err).to.be.instanceOf(LockTimeoutError);
    expect(err.message).to.include(`pid ${child.pid}`);

    child.kill('SIGKILL');
    await exited;
    expect(existsSync(lockPath)).to.equal(true); // left behind
    const warnings: string[] = [];
    logger.on('warning', (w) => warnings.push(`${w.code}: ${w.message}`));
    const event = await logger.logEvent('after the crash');
    await logger.close();
    expect(event.seq).to.equal(2);
    expect(warnings.some((w) => w.startsWith('STALE_LOCK_BROKEN') && w.includes(`pid ${child.pid}`))).to.equal(true);
    expectIntactChain(readFormat(dir, 'jsonl'), 2);
    expect(existsSync(lockPath)).to.equal(false);
  });

  it('releases the lease about a millisecond after it began, even while its holder then awaits a slow call', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 2000 });
    await leaseEnds();
    await logger.logEvent('first');
    expect(existsSync(lockPath), 'held within the turn').to.equal(true);
    await leaseEnds();
    expect(existsSync(lockPath), 'released once the lease is over').to.equal(false);
    // A child logs, then awaits a slow call: its lease must end without waiting for that call.
    const child = spawnTs(resolve(__dirname, '../../../test/fixtures/log-then-wait.ts'), [dir, '5000']);
    const exited = new Promise((r) => child.on('exit', r));
    await saidBy(child).until('logged');
    const event = await logger.logEvent('while the child waits');
    await logger.close();
    expect(event.seq).to.equal(3);
    child.kill('SIGKILL');
    await exited;
    expectIntactChain(readFormat(dir, 'jsonl'), 3);
  });

  /** Counts the leases taken while `log` runs (each links the holder file as the lock), and how long it ran. */
  async function countLeases(log: () => Promise<void>): Promise<{ leases: number; ms: number }> {
    const link = sinon.spy(fs, 'linkSync');
    try {
      const started = performance.now();
      await log();
      return { leases: link.callCount, ms: performance.now() - started };
    } finally {
      link.restore();
    }
  }

  const onePerTurn = (logger: AuditLogger, events: number) => async (): Promise<void> => {
    for (let i = 0; i < events; i++) {
      await logger.logEvent('one per turn', { i });
      await new Promise((r) => setImmediate(r));
    }
  };

  it('a writer alone, logging one event per turn, takes the lock about once a millisecond, not at every event', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('first');
    await leaseEnds();
    const { leases, ms } = await countLeases(onePerTurn(logger, 400));
    // A lease lasts about a millisecond (Node's timers count whole ones): however slow the machine, about as many leases as milliseconds.
    expect(leases, `${leases} leases in ${ms.toFixed(1)} ms`).to.be.within(1, 2 * Math.ceil(ms) + 2);
    await leaseEnds();
    expect(existsSync(lockPath), 'the last lease ended').to.equal(false);
    await logger.close();
    expectIntactChain(readFormat(dir, 'jsonl'), 401);
  });

  it('a writer that met another waiting at the lock ends its leases with its turn for a while, so that the other waits less', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('first');
    await leaseEnds();
    const child = spawnTs(resolve(__dirname, '../../../test/fixtures/log-on-signal.ts'), [dir], { stdio: ['pipe', 'pipe', 'pipe'] });
    const output = saidBy(child);
    await output.until('ready');
    await leaseEnds(); // the child's constructor took a lease too: over (and this resumes in a timer, before the turn's immediates)
    const ownLock = (): boolean => existsSync(lockPath) && readFileSync(lockPath, 'utf8').startsWith(`${process.pid} `);

    // Alone, a lease outlives its turn.
    await logger.logEvent('alone');
    await new Promise((r) => setImmediate(r));
    expect(ownLock(), 'alone: still held after the turn').to.equal(true);
    // Held while the child asks for the lock: it waits, and says so in the wait file.
    child.stdin!.write('go\n');
    const until = Date.now() + 10_000;
    while (!existsSync(`${lockPath}.wait`) && Date.now() < until) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    expect(existsSync(`${lockPath}.wait`), 'the child waits').to.equal(true);
    await output.until('logged'); // the lease ended, seeing the waiter; the child got in
    // Having met it, the next lease ends with its turn.
    await logger.logEvent('after meeting the child');
    await new Promise((r) => setImmediate(r));
    expect(ownLock(), 'contended: released at the end of the turn').to.equal(false);
    await logger.close();
    await new Promise((r) => child.on('exit', r));
    expectIntactChain(readFormat(dir, 'jsonl'), 4);
  });

  it('two processes that each hold one directory and wait for the other one let go instead of deadlocking', async () => {
    const [first, second, signals] = [tempDir(), tempDir(), tempDir()];
    const fixture = resolve(__dirname, '../../../test/fixtures/cross-dirs.ts');
    // Each holds the lease of one directory and then, in the same turn, waits for the other's.
    const [one, two] = await Promise.all([runTs(fixture, [first, second, signals, 'parent']), runTs(fixture, [second, first, signals, 'child'])]);
    expect(one.stdout, one.stderr).to.equal('done, met the other\n');
    expect(two.stdout, two.stderr).to.equal('done, met the other\n');
    for (const dir of [first, second]) expectIntactChain(readFormat(dir, 'jsonl'), 2);
  });

  it('emits a warning raised inside a write once the write is done: a handler may log through the same logger, a sibling, or to a locked directory', async () => {
    const [first, second] = [tempDir(), tempDir()];
    const child = spawnTs(HOLDER, [second, 'jsonl']); // holds the second directory's lock for ever
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await saidBy(child).until('holding');
      const a = new AuditLogger({ rootLogDir: first, format: 'jsonl' });
      const sibling = new AuditLogger({ rootLogDir: first, format: 'jsonl' });
      const locked = new AuditLogger({ rootLogDir: second, format: 'jsonl', lockTimeoutMs: 200 });
      await a.logEvent('before');
      await leaseEnds();
      writeFileSync(join(first, 'audit_log.jsonl'), '{"torn', { flag: 'a' }); // repaired, with a warning, when the next lease starts
      const fromHandler: Promise<unknown>[] = [];
      a.on('warning', (w) => {
        if (w.code !== 'TORN_LINE_REPAIRED') return;
        fromHandler.push(a.logEvent('from the handler, same logger'), sibling.logEvent('from the handler, sibling'));
        fromHandler.push(rejectionOf(locked.logEvent('from the handler, locked directory')));
      });
      await a.logEvent('after');
      const results = await Promise.all(fromHandler);
      expect(results[2]).to.be.instanceOf(LockTimeoutError);
      await Promise.all([a.close(), sibling.close(), locked.close()]);
      const events = readFormat(first, 'jsonl');
      expect(events.map((e) => e.action_type)).to.deep.equal(['before', 'after', 'from the handler, same logger', 'from the handler, sibling']);
      expectIntactChain(events, 4);
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it('a wait for one lock lets go of another lease, but not of one whose write is in progress', async () => {
    const [first, second] = [tempDir(), tempDir()];
    const child = spawnTs(HOLDER, [second, 'jsonl']);
    const exited = new Promise((r) => child.on('exit', r));
    try {
      await saidBy(child).until('holding');
      const mine = new FileLock(join(first, 'audit_log.lock'));
      const taken = new FileLock(join(second, 'audit_log.lock'), { timeoutMs: 100 });
      mine.acquireLease();
      // (FileLock from the sources throws the sources' LockTimeoutError: matched by its message.)
      mine.inUse(() => expect(() => taken.acquireLease()).to.throw(/Timed out after \d+ ms waiting for/));
      expect(mine.isHeld, 'kept: its write is in progress').to.equal(true);
      expect(() => taken.acquireLease()).to.throw(/Timed out after \d+ ms waiting for/);
      expect(mine.isHeld, 'let go: no write in progress').to.equal(false);
      mine.dispose();
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
  });

  it("does not keep the process alive: an event logged from 'beforeExit' is logged once, and the process ends", async () => {
    const dir = tempDir();
    const { code, stderr } = await runTs(resolve(__dirname, '../../../test/fixtures/log-before-exit.ts'), [dir]);
    expect(code, stderr).to.equal(0);
    expect(readFormat(dir, 'jsonl').map((e) => e.details)).to.deep.equal([{ call: 1 }]);
    expect(existsSync(join(dir, 'audit_log.lock'))).to.equal(false);
  });

  it('leaves no lock file behind when the process exits without close()', async () => {
    const dir = tempDir();
    const { code, stderr } = await runTs(resolve(__dirname, '../../../test/fixtures/exit-without-close.ts'), [dir]);
    expect(code, stderr).to.equal(0);
    expect(readdirSync(dir).filter((name) => name.startsWith('audit_log.lock')), 'neither the lock nor the holder file').to.deep.equal([]);
    expect(readFormat(dir, 'jsonl').map((e) => e.action_type)).to.deep.equal(['last words']);
  });

  it('breaks a lock from another host once older than the stale age, and an empty lock file left by a crash', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    // Ages count from the ctime too, which no call can set back: the files really get old.
    writeFileSync(lockPath, '4242 some-other-host 0123456789abcdef\n');
    const started = Date.now();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 5000, lockStaleMs: 1000 });
    const broken: string[] = [];
    logger.on('warning', (w) => w.code === 'STALE_LOCK_BROKEN' && broken.push(w.message));
    await logger.logEvent('a');
    expect(Date.now() - started, 'waited until the lock was 1 s old').to.be.at.least(950);
    await leaseEnds();
    writeFileSync(lockPath, '');
    await logger.logEvent('b'); // waits out the 2 s given to a writer between creating and filling its lock file
    await logger.close();
    expectIntactChain(readFormat(dir, 'jsonl'), 2);
    expect(broken).to.have.length(2);
    expect(broken[0]).to.include('pid 4242 on some-other-host');
    expect(broken[1]).to.include('a writer that died before filling it in');
  });

  it('waits for (and then times out on) a fresh lock from another host', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 150 });
    await leaseEnds();
    writeFileSync(join(dir, 'audit_log.lock'), '4242 some-other-host 0123456789abcdef\n');
    const err = await rejectionOf(logger.logEvent('a'));
    expect(err).to.be.instanceOf(LockTimeoutError);
    expect(err.message).to.include('held by pid 4242 on some-other-host');
    await logger.close();
  });

  it('judges a lock from another pid namespace under the same hostname by its age, not by a pid it cannot see', async () => {
    const dir = tempDir();
    const lockPath = join(dir, 'audit_log.lock');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 150, lockStaleMs: 1000 });
    await leaseEnds();
    const { hostname } = await import('node:os');
    const { spawnSync } = await import('node:child_process');
    // A pid that is dead here, written by a container of the same pod: its own namespace, where it may well live.
    const pid = spawnSync(process.execPath, ['-e', '']).pid!;
    writeFileSync(lockPath, `${pid} ${hostname()} 0123456789abcdef 4242 pid:[1]\n`);
    const err = await rejectionOf(logger.logEvent('a'));
    expect(err, 'a fresh lock from another namespace is waited for').to.be.instanceOf(LockTimeoutError);
    await new Promise((r) => setTimeout(r, 1050)); // past the logger's lockStaleMs of 1000
    const broken: string[] = [];
    logger.on('warning', (w) => w.code === 'STALE_LOCK_BROKEN' && broken.push(w.message));
    const event = await logger.logEvent('b');
    await logger.close();
    expect(event.seq).to.equal(1);
    expect(broken).to.have.length(1);
    // The same line without a namespace (an older writer's) is judged by its pid, as before: dead, so broken at once.
    writeFileSync(lockPath, `${pid} ${hostname()} 0123456789abcdef\n`);
    const again = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 150 });
    expect((await again.logEvent('c')).seq).to.equal(2);
    await again.close();
  });

  it('breaks a lock whose pid is alive but belongs to a later process (pid reuse)', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', lockTimeoutMs: 2000 });
    await leaseEnds();
    const { hostname } = await import('node:os');
    // Our own pid, but a start time that is not ours: a previous incarnation, as in a restarted container.
    writeFileSync(join(dir, 'audit_log.lock'), `${process.pid} ${hostname()} 0123456789abcdef 1\n`);
    const broken: string[] = [];
    logger.on('warning', (w) => w.code === 'STALE_LOCK_BROKEN' && broken.push(w.message));
    const event = await logger.logEvent('a');
    await logger.close();
    expect(event.seq).to.equal(1);
    expect(broken).to.have.length(1);
  });
});
