// Several formats at once: the primary file takes each event first; a secondary left behind by a crash is brought up to date.
import { expect } from 'chai';
import { existsSync, readFileSync, renameSync, truncateSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { readFormat, leaseEnds } from './helpers';

type Format = 'json' | 'jsonl' | 'csv';

/** Cuts the last event out of a secondary file, as a crash between the primary write and the secondary one would. */
function dropLastEvent(dir: string, format: Format, order: 'oldest-first' | 'newest-first' = 'oldest-first'): void {
  const path = join(dir, `audit_log.${format}`);
  const text = readFileSync(path, 'utf8');
  if (format === 'json') {
    const lines = text.split('\n');
    if (order === 'newest-first') writeFileSync(path, [lines[0], ...lines.slice(2)].join('\n'));
    else writeFileSync(path, '[\n' + (JSON.parse(text) as AuditEvent[]).slice(0, -1).map((e) => JSON.stringify(e)).join(',\n') + '\n]\n');
    return;
  }
  const lines = text.trimEnd().split('\n');
  const last = format === 'csv' ? text.lastIndexOf('\n', text.length - 2) + 1 : text.length - lines[lines.length - 1]!.length - 1;
  truncateSync(path, last);
}

describe('multi-format logs', () => {
  const combos: [Format, Format][] = [
    ['jsonl', 'csv'],
    ['jsonl', 'json'],
    ['json', 'jsonl'],
    ['csv', 'jsonl'],
    ['csv', 'json'],
  ];
  for (const [primary, secondary] of combos) {
    it(`copies the event a crash kept from the ${secondary} secondary out of the ${primary} primary`, async () => {
      const dir = tempDir();
      const formats = [primary, secondary];
      let logger = new AuditLogger({ rootLogDir: dir, format: formats });
      await logger.logEvent('a', { text: 'multi\nline "quoted"' });
      await logger.logEvent('b', { n: 2 });
      await logger.close();
      dropLastEvent(dir, secondary);
      expect(readFormat(dir, secondary).map((e) => e.seq)).to.deep.equal([1]);

      const warnings: string[] = [];
      logger = new AuditLogger({ rootLogDir: dir, format: formats });
      logger.on('warning', (w) => warnings.push(w.code));
      await logger.logEvent('c');
      await logger.close();
      const first = readFormat(dir, primary);
      const second = readFormat(dir, secondary);
      expect(first.map((e) => e.seq)).to.deep.equal([1, 2, 3]);
      expect(second).to.deep.equal(first);
      expect(warnings).to.include('SECONDARY_CAUGHT_UP');
    });
  }

  it('catches up a newest-first JSON secondary too', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json'], order: 'newest-first' });
    await logger.logEvent('a');
    await logger.logEvent('b');
    await logger.close();
    dropLastEvent(dir, 'json', 'newest-first');
    expect(readFormat(dir, 'json').map((e) => e.seq)).to.deep.equal([1]);
    logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'json'], order: 'newest-first' });
    await logger.logEvent('c');
    await logger.close();
    expect(readFormat(dir, 'json').map((e) => e.seq)).to.deep.equal([3, 2, 1]);
    expect([...readFormat(dir, 'json')].reverse()).to.deep.equal(readFormat(dir, 'jsonl'));
  });

  for (const format of ['jsonl', 'json', 'csv'] as const) {
    it(`writes to a new ${format} file when the file is deleted or moved while logging, never to the ghost`, async () => {
      const dir = tempDir();
      const logger = new AuditLogger({ rootLogDir: dir, format });
      await logger.logEvent('a');
      await leaseEnds();
      renameSync(join(dir, `audit_log.${format}`), join(dir, `moved.${format}`));
      await logger.logEvent('b');
      await leaseEnds();
      unlinkSync(join(dir, `audit_log.${format}`));
      await logger.logEvent('c');
      await logger.close();
      // A log whose file was taken away starts again: the file at the path holds what came after.
      expect(readFormat(dir, format).map((e) => e.action_type)).to.deep.equal(['c']);
    });
  }

  it('a writer logging one event per turn notices a file moved by hand at its next lease, however busy it is', async () => {
    const dir = tempDir();
    const logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    await logger.logEvent('before');
    renameSync(join(dir, 'audit_log.jsonl'), join(dir, 'moved.jsonl'));
    // Never idle: one event per turn, each its own lease. A bound of 10 s, never reached, keeps a failure finite.
    const deadline = Date.now() + 10_000;
    let logged = 0;
    while (!existsSync(join(dir, 'audit_log.jsonl')) && Date.now() < deadline) {
      await logger.logEvent('busy', { logged: ++logged });
      await new Promise((r) => setImmediate(r));
    }
    await logger.logEvent('after');
    await logger.close();
    const moved = readFileSync(join(dir, 'moved.jsonl'), 'utf8').trimEnd().split('\n');
    const fresh = readFormat(dir, 'jsonl');
    expect(fresh.map((e) => e.action_type).slice(-1)).to.deep.equal(['after']);
    expect(moved.length - 1 + fresh.length - 1, 'every busy event is in one file or the other').to.equal(logged);
  });

  it('refuses to append to a secondary file that another writer uses as its primary', async () => {
    const dir = tempDir();
    const csvOnly = new AuditLogger({ rootLogDir: dir, format: 'csv' });
    await csvOnly.logEvent('x');
    await csvOnly.logEvent('y');
    await csvOnly.close();
    const both = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
    const err = await both.logEvent('z').then(
      () => undefined,
      (e: Error) => e,
    );
    await both.close();
    expect(err?.message).to.include('audit_log.csv').and.include('same format list');
    expect(readFormat(dir, 'jsonl').map((e) => e.action_type)).to.deep.equal(['z']);
    expect(readFormat(dir, 'csv').map((e) => e.action_type)).to.deep.equal(['x', 'y']);
  });

  it('a format added to an existing log starts where the log is (no history copy)', async () => {
    const dir = tempDir();
    let logger = new AuditLogger({ rootLogDir: dir, format: 'jsonl' });
    for (let i = 0; i < 100; i++) await logger.logEvent('old', { i });
    await logger.close();
    logger = new AuditLogger({ rootLogDir: dir, format: ['jsonl', 'csv'] });
    const event: AuditEvent = await logger.logEvent('new');
    await logger.close();
    expect(event.seq).to.equal(101);
    expect(readFormat(dir, 'csv').map((e) => e.seq)).to.deep.equal([101]);
  });
});
