// Delivery that cannot stall or mislead: an empty lease file left by a crash, close() with a flush in flight, a sink whose close() throws, a standby's acknowledged event the holder dead-lettered.
import { expect } from 'chai';
import { mkdirSync, writeFileSync, utimesSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, SinkError, cursorFileName, type AuditBusEvents, type Sink } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { spawnTs } from '../../../test/helpers/node';
import { ScriptedSink } from './delivery-fixtures';

const fast = { maxBatchDelayMs: 5, initialBackoffMs: 1, maxBackoffMs: 20 };

function emptyLease(dir: string, sink: string, ageMs: number): string {
  mkdirSync(join(dir, '.delivery'), { recursive: true });
  const path = join(dir, '.delivery', cursorFileName(sink).replace(/\.cursor$/, '.lease'));
  writeFileSync(path, '');
  const then = new Date(Date.now() - ageMs);
  utimesSync(path, then, then);
  return path;
}

describe('delivery: shutdown and stale leases', () => {
  it('an empty lease file older than the grace (a crash between create and write) is broken with a warning, and the sink delivers', async () => {
    const dir = tempDir();
    const lease = emptyLease(dir, 'remote', 60_000);
    const warnings: AuditBusEvents['warning'][] = [];
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', delivery: { pollIntervalMs: 10 } });
    logger.on('warning', (w) => warnings.push(w));
    logger.addSink(sink);
    await logger.logEvent('step');
    const result = await logger.flush({ timeoutMs: 5_000 });
    expect(logger.stats().remote!.state).to.not.equal('standby');
    await logger.close();
    expect(result.ok).to.equal(true);
    expect(sink.delivered.map((e) => e.action_type)).to.deep.equal(['step']);
    expect(warnings.map((w) => w.code)).to.include('STALE_LEASE_BROKEN');
    expect(warnings.find((w) => w.code === 'STALE_LEASE_BROKEN')!.message).to.include(lease);
    expect(existsSync(lease)).to.equal(false); // released at close
  });

  it('an empty lease file younger than the grace is left alone (its creator may be writing it): the logger follows', async () => {
    const dir = tempDir();
    emptyLease(dir, 'remote', 0);
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl', sinks: [sink], delivery: { pollIntervalMs: 60_000 } });
    expect(logger.stats().remote!.state).to.equal('standby');
    await logger.close({ timeoutMs: 0 });
  });

  it('close({ timeoutMs }) returns while a flush() without timeout waits on a sink that never answers, and the process then exits by itself', async function () {
    this.timeout(30_000);
    const dir = tempDir();
    const child = spawnTs(join(__dirname, 'delivery-close-hang.fixture.ts'), [dir]);
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    let code: number | null | 'hung';
    try {
      code = await Promise.race([exited, new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 15_000))]);
    } finally {
      child.kill('SIGKILL');
    }
    expect(code, `${out}\n${err}`).to.equal(0);
    expect(out).to.include('closed ok=false pending=1');
    expect(out).to.include('flush settled ok=false');
  });

  it("a sink whose close() throws does not keep the others, the delivery engine or the files open; close rejects with its error and reports the next on the bus", async () => {
    const dir = tempDir();
    const closed: string[] = [];
    const failing = (name: string): Sink => ({ name, write: () => undefined, close: () => { throw new Error(`${name} cannot close`); } });
    const fine: Sink = { name: 'fine', write: () => undefined, close: () => void closed.push('fine') };
    const batch = new ScriptedSink({ name: 'remote', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [failing('first'), fine, failing('second'), batch] });
    const errors: AuditBusEvents['error'][] = [];
    logger.on('error', (e) => errors.push(e));
    await logger.logEvent('step');
    let failure: unknown;
    await logger.close().catch((e: unknown) => (failure = e));
    expect(failure).to.be.instanceOf(SinkError).with.property('sink', 'first');
    expect(errors.map((e) => e.sink)).to.deep.equal(['second']);
    expect(closed).to.deep.equal(['fine']);
    expect(batch.shutdowns).to.equal(1);
    expect(batch.delivered.map((e) => e.action_type)).to.deep.equal(['step']);
    // The directory lock is released: another logger writes at once.
    const next = new AuditLogger({ rootLogDir: dir, format: 'json', lockTimeoutMs: 1_000 });
    await next.logEvent('after');
    await next.close();
    let again: unknown;
    await logger.close().catch((e: unknown) => (again = e));
    expect(again).to.equal(failure);
  });

  it('acknowledged delivery on a standby logger rejects when the lease holder dead-lettered the event, instead of resolving once its cursor passed', async function () {
    this.timeout(30_000);
    const dir = tempDir();
    const child = spawnTs(join(__dirname, 'delivery-deadletter-holder.fixture.ts'), [dir]);
    try {
      await new Promise<void>((resolve, reject) => {
        let out = '';
        child.stdout!.on('data', (d: Buffer) => {
          out += d.toString();
          if (out.includes('ready')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`the holder exited early (${code})`)));
      });
      const sink = new ScriptedSink({ name: 'remote', delivery: fast });
      const logger = new AuditLogger({
        rootLogDir: dir,
        format: 'jsonl',
        sinks: [sink],
        delivery: { pollIntervalMs: 10, acknowledged: { sinks: ['remote'], timeoutMs: 20_000 } },
      });
      expect(logger.stats().remote!.state).to.equal('standby');
      let failure: unknown;
      await logger.logEvent('refused_by_holder').catch((err: unknown) => (failure = err));
      expect(failure).to.be.instanceOf(SinkError).with.property('sink', 'remote');
      expect((failure as Error).message).to.include('dead-lettered').and.include('schema mismatch');
      expect(sink.calls).to.deep.equal([]); // the holder did the delivering
      await logger.close({ timeoutMs: 0 });
    } finally {
      child.kill('SIGKILL');
    }
  });
});
