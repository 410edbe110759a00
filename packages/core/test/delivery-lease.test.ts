// Several loggers on one directory with the same batch sink: one delivers (the lease holder), the others follow and take over.
import { expect } from 'chai';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sinon from 'sinon';
import { AuditLogger, CursorStore, type AuditBusEvents, type AuditEvent } from '@auditrail/core';
import { spawnTs } from '../../../test/helpers/node';
import { tempDir } from '../../../test/helpers/tmp';
import { ScriptedSink } from './delivery-fixtures';

const policy = { maxBatchDelayMs: 1, initialBackoffMs: 1, maxBackoffMs: 10 };

function logger(dir: string, sink: ScriptedSink): AuditLogger {
  return new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', sinks: [sink], delivery: { pollIntervalMs: 50 } });
}

async function logMany(log: AuditLogger, n: number, action: string): Promise<AuditEvent[]> {
  const out: AuditEvent[] = [];
  for (let i = 0; i < n; i++) out.push(await log.logEvent(action, { i }));
  return out;
}

describe('delivery from a shared directory: the lease', () => {
  it('one logger delivers everyone\'s events once; the other follows its cursor, then takes over when it closes', async () => {
    const dir = tempDir();
    const sinkA = new ScriptedSink({ name: 'remote', delivery: policy });
    const sinkB = new ScriptedSink({ name: 'remote', delivery: policy });
    const a = logger(dir, sinkA);
    const b = logger(dir, sinkB);
    expect(a.stats().remote!.state).to.equal('ok');
    expect(b.stats().remote!.state).to.equal('standby');
    const first = [...(await logMany(a, 10, 'from_a')), ...(await logMany(b, 10, 'from_b'))];
    const followed = await b.flush({ timeoutMs: 10_000 });
    expect(followed.sinks.remote!.done).to.equal(true);
    expect(sinkA.delivered.map((e) => e.id)).to.deep.equal(first.map((e) => e.id));
    expect(sinkB.delivered).to.have.length(0);

    await a.close();
    const later = await logMany(b, 5, 'after_handover');
    const result = await b.flush({ timeoutMs: 10_000 });
    await b.close();
    expect(result.sinks.remote).to.include({ done: true, state: 'ok' });
    expect(sinkB.delivered.map((e) => e.id)).to.deep.equal(later.map((e) => e.id));
  });

  it('a holder whose lease another host took warns LEASE_LOST and stands by, then leads again once that lease is gone', async function () {
    this.timeout(20_000);
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: policy });
    const log = logger(dir, sink);
    const warnings: AuditBusEvents['warning'][] = [];
    log.on('warning', (w) => warnings.push(w));
    const first = await log.logEvent('before');
    await log.flush({ timeoutMs: 10_000 });
    // A logger on another host judged this one gone (say its loop stalled for longer than 30 s) and took the lease.
    const path = join(dir, '.delivery', 'remote.lease');
    unlinkSync(path);
    writeFileSync(path, '4242 - another-host 0123456789abcdef -\n');
    const deadline = Date.now() + 5_000;
    while (!warnings.some((w) => w.code === 'LEASE_LOST') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(warnings.find((w) => w.code === 'LEASE_LOST')?.message).to.include('taken by pid 4242 on another-host');
    expect(log.stats().remote!.state).to.equal('standby');
    const during = await log.logEvent('during');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.delivered.map((e) => e.id)).to.deep.equal([first.id]); // the other host delivers now
    expect(readFileSync(path, 'utf8')).to.include('another-host'); // left alone, not touched away
    unlinkSync(path); // that logger closed
    const result = await log.flush({ timeoutMs: 10_000 });
    await log.close();
    expect(result.sinks.remote).to.include({ done: true, state: 'ok' });
    expect(sink.delivered.map((e) => e.id)).to.deep.equal([first.id, during.id]);
  });

  it('a holder that polls seldom steps down as soon as its lease is lost: no batch taken and no cursor written after LEASE_LOST', async function () {
    this.timeout(20_000);
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: policy });
    const log = new AuditLogger({ rootLogDir: dir, format: 'jsonl', fsync: 'never', sinks: [sink], delivery: { pollIntervalMs: 60_000 } });
    const lost: AuditBusEvents['warning'][] = [];
    log.on('warning', (w) => w.code === 'LEASE_LOST' && lost.push(w));
    const first = await log.logEvent('before');
    await log.flush({ timeoutMs: 10_000 });
    const path = join(dir, '.delivery', 'remote.lease');
    const cursorPath = join(dir, '.delivery', 'remote.cursor');
    unlinkSync(path);
    writeFileSync(path, '4242 - another-host 0123456789abcdef -\n');
    const cursorBefore = readFileSync(cursorPath, 'utf8');
    const deadline = Date.now() + 5_000;
    while (lost.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    expect(lost, 'the lease keeps itself fresh and checks it is its own every second, whatever the poll interval').to.have.length(1);
    for (let i = 0; i < 5; i++) await log.logEvent('after', { i });
    expect(log.stats().remote!.state).to.equal('standby');
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(sink.delivered.map((e) => e.id)).to.deep.equal([first.id]);
    expect(readFileSync(cursorPath, 'utf8'), 'the cursor belongs to the new holder').to.equal(cursorBefore);
    await log.close({ timeoutMs: 0 });
    expect(readFileSync(cursorPath, 'utf8')).to.equal(cursorBefore);
    expect(readFileSync(path, 'utf8')).to.include('another-host');
  });

  it('gives its lease back at close even when its cursor cannot be saved', async () => {
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: policy });
    const log = logger(dir, sink);
    const warnings: AuditBusEvents['warning'][] = [];
    log.on('warning', (w) => warnings.push(w));
    await log.logEvent('a');
    const path = join(dir, '.delivery', 'remote.lease');
    expect(existsSync(path)).to.equal(true);
    const persist = sinon.stub(CursorStore.prototype, 'persist').throws(Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
    try {
      await log.close({ timeoutMs: 2_000 }).catch(() => undefined);
    } finally {
      persist.restore();
    }
    expect(existsSync(path), 'the lease, given back').to.equal(false);
    expect(warnings.map((w) => w.code)).to.include('CURSOR_WRITE_FAILED');
  });

  it('takes over from a holder that was killed with SIGKILL, and delivers what it left', async function () {
    this.timeout(30_000);
    const dir = tempDir();
    const child = spawnTs(join(__dirname, 'delivery-holder.fixture.ts'), [dir, '25']);
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
      });
      expect(existsSync(join(dir, '.delivery', 'remote.lease'))).to.equal(true);
      const sink = new ScriptedSink({ name: 'remote', delivery: policy });
      const parent = logger(dir, sink);
      expect(parent.stats().remote!.state).to.equal('standby');
      child.kill('SIGKILL');
      await new Promise((resolve) => child.once('exit', resolve));
      const mine = await parent.logEvent('parent_step');
      const result = await parent.flush({ timeoutMs: 20_000 });
      await parent.close();
      expect(result.sinks.remote!.done).to.equal(true);
      expect(sink.delivered.filter((e) => e.action_type === 'child_step').map((e) => e.details.i)).to.deep.equal([...Array(25).keys()]);
      expect(sink.delivered.at(-1)!.id).to.equal(mine.id);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});
