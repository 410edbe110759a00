// audit_log.json regrows from a copy prepared in the background: the copy renamed into place is that copy, and no event is lost or doubled.
import { expect } from 'chai';
import { readdirSync, readFileSync, renameSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, verifyAuditLog } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readJsonArray } from './helpers';

const PAD = 'x'.repeat(400);

/** Inodes of the background copies (`.tmp-` files) in `dir` now. */
function copiesIn(dir: string): number[] {
  const inodes: number[] = [];
  for (const name of readdirSync(dir)) {
    if (!name.includes('.tmp-')) continue;
    try {
      inodes.push(statSync(join(dir, name)).ino);
    } catch {
      // renamed or removed meanwhile
    }
  }
  return inodes;
}

/** Logs `count` events through `loggers` in turn, giving the event loop a turn every 20; counts regrowths, and those that renamed a copy seen beforehand. */
async function logWatching(dir: string, loggers: AuditLogger[], count: number): Promise<{ regrowths: number; fromCopies: number }> {
  const path = join(dir, 'audit_log.json');
  const seen = new Set<number>();
  let inode = statSync(path).ino;
  let regrowths = 0;
  let fromCopies = 0;
  for (let i = 0; i < count; i++) {
    await loggers[i % loggers.length]!.logEvent('step', { i, pad: PAD });
    if (i % 5 === 4) {
      // The copy is made only when the reserve fills slowly enough for it to be ready in time: a pipeline's pace, not a benchmark's.
      await new Promise((r) => setTimeout(r, 2));
      for (const ino of copiesIn(dir)) seen.add(ino);
    }
    const now = statSync(path).ino;
    if (now !== inode) {
      regrowths++;
      if (seen.has(now)) fromCopies++;
      inode = now;
    }
  }
  return { regrowths, fromCopies };
}

/** Logs at a pipeline's pace (a 2 ms pause every 5 events: the copy is made only for a reserve filling slowly enough) until `done()`; returns the next i. */
async function logPacedUntil(logger: AuditLogger, i: number, done: () => boolean): Promise<number> {
  while (!done()) {
    await logger.logEvent('step', { i: i++, pad: PAD });
    if (i % 5 === 0) await new Promise((r) => setTimeout(r, 2));
    expect(i, 'a copy is made once half of the reserve is used').to.be.below(50_000);
  }
  return i;
}

function expectWhole(dir: string, count: number): void {
  const events = readJsonArray(dir);
  expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: count }, (_, i) => i + 1));
  for (let i = 1; i < events.length; i++) expect(events[i]!.prev_hash).to.equal(events[i - 1]!.hash);
  expect(readdirSync(dir).filter((name) => name.includes('.tmp-')), 'no copy left behind').to.deep.equal([]);
}

describe('JSON array: regrowth from a background copy', () => {
  it('renames the copy prepared in the background into place, with every event written meanwhile', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    const { regrowths, fromCopies } = await logWatching(dir, [logger], 4000);
    await logger.close();
    expect(fromCopies, `${regrowths} regrowths`).to.be.greaterThan(0);
    expectWhole(dir, 4000);
    expect((await verifyAuditLog(join(dir, 'audit_log.json'))).ok).to.equal(true);
  });

  it('copies what another writer appended while the copy was made', async () => {
    const dir = tempDir();
    const a = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    const b = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    const { fromCopies } = await logWatching(dir, [a, b, b], 4000);
    await Promise.all([a.close(), b.close()]);
    expect(fromCopies).to.be.greaterThan(0);
    expectWhole(dir, 4000);
  });

  it('takes an event longer than a page through a ready copy, and drops a copy whose file was replaced', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    // Fill at a pipeline's pace until a copy is being prepared, then give it time to be ready.
    let i = 0;
    i = await logPacedUntil(logger, i, () => copiesIn(dir).length > 0);
    const copy = copiesIn(dir)[0]!;
    await new Promise((r) => setTimeout(r, 200));
    await logger.logEvent('large', { i: i++, pad: 'y'.repeat(10_000) });
    expect(statSync(path).ino, 'the large event came in with the copy').to.equal(copy);

    // The file is restored from an older backup (fewer events) while a copy of the newer one is
    // ready: that copy must not be renamed over the restored file.
    const backup = readFileSync(path);
    const backupCount = readJsonArray(dir).length;
    i = await logPacedUntil(logger, i, () => copiesIn(dir).length > 0);
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(path + '.restore', backup, { mode: 0o600 });
    renameSync(path + '.restore', path);
    await new Promise((r) => setTimeout(r, 20)); // the lease ends: the next event reads the restored tail
    for (let k = 0; k < 2000; k++) await logger.logEvent('after', { k, pad: PAD });
    await logger.close();
    expectWhole(dir, backupCount + 2000);
  });

  it('drops a ready copy when the file is overwritten in place by an older backup (same inode, fewer events)', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    let i = 0;
    while (statSync(path).size < 256 * 1024) await logger.logEvent('step', { i: i++, pad: PAD });
    const backup = readFileSync(path);
    const backupCount = readJsonArray(dir).length;
    const inode = statSync(path).ino;
    // At least one regrowth (so the backup is smaller than the file), then a copy made of the file and ready.
    i = await logPacedUntil(logger, i, () => statSync(path).ino !== inode && copiesIn(dir).length > 0);
    await new Promise((r) => setTimeout(r, 200));
    writeFileSync(path, backup); // as cp does: the same inode, truncated and rewritten
    await new Promise((r) => setTimeout(r, 20));
    for (let k = 0; k < 3000; k++) await logger.logEvent('after', { k, pad: PAD });
    await logger.close();
    expectWhole(dir, backupCount + 3000);
  });

  it('starts no copy at a new logger\'s first events while most of the reserve is left', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    let logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    let i = 0;
    while (statSync(path).size < 512 * 1024) await logger.logEvent('step', { i: i++, pad: PAD });
    // Just past a regrowth (the reserve is then a third of the file), then a third of the reserve used.
    const inode = statSync(path).ino;
    while (statSync(path).ino === inode) await logger.logEvent('step', { i: i++, pad: PAD });
    const line = JSON.stringify(readJsonArray(dir).at(-1)).length + 2;
    const third = Math.floor(statSync(path).size / 3 / 3 / line);
    for (let k = 0; k < third; k++) await logger.logEvent('step', { i: i++, pad: PAD });
    await logger.close();
    for (let k = 0; k < 5; k++) {
      logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
      await logger.logEvent('one', { i: i++ });
      await new Promise((r) => setTimeout(r, 5));
      expect(copiesIn(dir), `logger ${k}`).to.deep.equal([]);
      await logger.close();
    }
    expectWhole(dir, i);
  });

  it('makes no copy in the background for a program that fills the reserve faster than a copy could be made', async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    let regrowths = 0;
    let inode = statSync(path).ino;
    for (let i = 0; i < 6000; i++) {
      await logger.logEvent('step', { i, pad: PAD });
      if (i % 100 === 99) {
        await new Promise((r) => setImmediate(r));
        expect(copiesIn(dir), `after event ${i}`).to.deep.equal([]);
      }
      if (statSync(path).ino !== inode) {
        regrowths++;
        inode = statSync(path).ino;
      }
    }
    await logger.close();
    expect(regrowths).to.be.greaterThan(3);
    expectWhole(dir, 6000);
  });

  it("removes another writer's copy when it regrows the file itself: that copy is of the file replaced", async () => {
    const dir = tempDir();
    const path = join(dir, 'audit_log.json');
    const a = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    const b = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    let i = 0;
    i = await logPacedUntil(a, i, () => copiesIn(dir).length > 0);
    await new Promise((r) => setTimeout(r, 200)); // a's copy is ready; a goes idle
    const inode = statSync(path).ino;
    // b logs at full speed (no copy of its own) until it regrows the file.
    while (statSync(path).ino === inode) await b.logEvent('b', { i: i++, pad: PAD });
    expect(copiesIn(dir), "a's copy, of the file b replaced").to.deep.equal([]);
    await a.logEvent('a again', { i: i++ });
    await Promise.all([a.close(), b.close()]);
    expectWhole(dir, i);
  });

  it('removes a copy still in preparation on close()', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', fsync: 'never' });
    let i = 0;
    i = await logPacedUntil(logger, i, () => copiesIn(dir).length > 0);
    await logger.close();
    expectWhole(dir, i);
  });
});
