// The outbox of a json/csv-only log holds every event the local file holds: crashes, failed writes and writers without a batch sink.
import { expect } from 'chai';
import { mkdirSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AuditLogger, readEvents, type AuditBusEvents, type LogFormat } from '@auditrail/core';
import { tempDir } from '../../../test/helpers/tmp';
import { runTs } from '../../../test/helpers/node';
import { ScriptedSink, eventually } from './delivery-fixtures';

const fast = { maxBatchDelayMs: 5, initialBackoffMs: 1, maxBackoffMs: 20 };

/** Seqs in the outbox's files, oldest first. */
function outboxSeqs(dir: string): number[] {
  const box = join(dir, '.delivery');
  const files = readdirSync(box).filter((n) => /^outbox(\.\d{16})?\.jsonl$/.test(n)).sort((a, b) => (a === 'outbox.jsonl' ? 1 : b === 'outbox.jsonl' ? -1 : a.localeCompare(b)));
  return files.flatMap((name) =>
    readFileSync(join(box, name), 'utf8')
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => (JSON.parse(line) as { seq: number }).seq),
  );
}

async function seqsIn(path: string, field: 'seq' | 'action_type' = 'seq'): Promise<unknown[]> {
  const found: unknown[] = [];
  for await (const event of readEvents(path)) found.push(event[field]);
  return found;
}

function primaryOf(dir: string, format: LogFormat): string {
  return join(dir, format === 'csv' ? 'audit_log.csv' : 'audit_log.json');
}

describe('delivery: the outbox never misses an event the local file holds', () => {
  for (const format of ['json', 'csv'] as LogFormat[]) {
    it(`a process killed with SIGKILL between its local file and the outbox: the next run copies the event and delivers it (format ${format})`, async function () {
      this.timeout(30_000);
      const dir = tempDir();
      const child = await runTs(join(__dirname, 'delivery-outbox-crash.fixture.ts'), [dir, format]);
      expect(child.code, child.stderr).to.equal(null); // killed by its own SIGKILL at seq 3
      expect(await seqsIn(primaryOf(dir, format))).to.deep.equal([1, 2, 3]);

      const sink = new ScriptedSink({ name: 'remote', delivery: fast });
      const warnings: AuditBusEvents['warning'][] = [];
      const logger = new AuditLogger({ rootLogDir: dir, format, sinks: [sink] });
      logger.on('warning', (w) => warnings.push(w));
      await logger.logEvent('parent_step');
      const result = await logger.flush({ timeoutMs: 10_000 });
      await logger.close();
      expect(result.ok).to.equal(true);
      expect(outboxSeqs(dir)).to.deep.equal([1, 2, 3, 4]);
      expect(sink.delivered.map((e) => e.seq)).to.include.members([3, 4]);
      expect(await seqsIn(primaryOf(dir, format))).to.deep.equal([1, 2, 3, 4]);
    });
  }

  it('events logged by a writer of the same directory that has no batch sink reach the outbox and the sink', async () => {
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const withSink = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [sink], delivery: { pollIntervalMs: 10 } });
    await withSink.logEvent('with_sink');
    const plain = new AuditLogger({ rootLogDir: dir, format: 'json' });
    for (let i = 0; i < 3; i++) await plain.logEvent('no_sink', { i });
    await plain.close();
    // Nothing more is logged by the sink's logger: its poll catches the outbox up.
    await eventually(() => sink.delivered.length === 4, 'the other writer\'s events to be delivered');
    await withSink.logEvent('with_sink_again');
    await withSink.close();
    expect(outboxSeqs(dir)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(sink.delivered.map((e) => e.action_type)).to.deep.equal(['with_sink', 'no_sink', 'no_sink', 'no_sink', 'with_sink_again']);
  });

  it('a failed outbox write rejects logEvent, and the next event copies the missed one first', async () => {
    const dir = tempDir();
    const sink = new ScriptedSink({ name: 'remote', delivery: fast });
    const logger = new AuditLogger({ rootLogDir: dir, format: 'json', sinks: [sink] });
    await logger.logEvent('first');
    const live = join(dir, '.delivery', 'outbox.jsonl');
    const kept = readFileSync(live);
    unlinkSync(live);
    mkdirSync(live); // the outbox cannot be opened
    let failure: unknown;
    await logger.logEvent('second').catch((err: unknown) => (failure = err));
    expect(failure).to.be.an('error').with.property('code', 'WRITE_FAILED');
    rmSync(live, { recursive: true });
    writeFileSync(live, kept);
    await logger.logEvent('third');
    const result = await logger.flush({ timeoutMs: 10_000 });
    await logger.close();
    expect(result.ok).to.equal(true);
    expect(await seqsIn(join(dir, 'audit_log.json'), 'action_type')).to.deep.equal(['first', 'second', 'third']);
    expect(outboxSeqs(dir)).to.deep.equal([1, 2, 3]);
    expect(sink.delivered.map((e) => e.action_type)).to.deep.equal(['first', 'second', 'third']);
  });
});
