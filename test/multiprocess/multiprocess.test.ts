// Several processes logging into one rootLogDir at once lose and corrupt nothing, in every format.
import { expect } from 'chai';
import { resolve } from 'node:path';
import type { ChildProcess } from 'node:child_process';
import { AuditLogger, computeHash, readEvents, type AuditEvent } from '@auditrail/core';
import { tempDir } from '../helpers/tmp';
import { spawnTs } from '../helpers/node';
import { readFormat } from '../../packages/core/test/helpers';

const WRITER = resolve(__dirname, '../fixtures/multiprocess-writer.ts');
const PROCESSES = 4;
const EACH = 2000;

interface Child {
  process: ChildProcess;
  ready: Promise<void>;
  half: Promise<void>;
  result: Promise<{ seqs: number[] }>;
}

function start(dir: string, format: string, name: string): Child {
  const child = spawnTs(WRITER, [dir, format, name, String(EACH)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let onReady: () => void = () => undefined;
  let onHalf: () => void = () => undefined;
  const ready = new Promise<void>((r) => (onReady = r));
  const half = new Promise<void>((r) => (onHalf = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
    if (out.startsWith('ready\nhalf\n')) onHalf();
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const result = new Promise<{ seqs: number[] }>((ok, fail) => {
    child.on('close', (code) => {
      if (code !== 0) return fail(new Error(`${name} exited with ${code}: ${err}`));
      ok(JSON.parse(out.slice('ready\nhalf\n'.length)) as { seqs: number[] });
    });
  });
  return { process: child, ready, half, result };
}

describe(`multi-process: ${PROCESSES} processes x ${EACH} events into one directory`, function () {
  this.timeout(120_000);

  for (const format of ['jsonl', 'json', 'csv'] as const) {
    it(`loses and corrupts nothing (${format})`, async () => {
      const dir = tempDir();
      const names = Array.from({ length: PROCESSES }, (_, i) => `p${i}`);
      const children = names.map((name) => start(dir, format, name));
      await Promise.all(children.map((c) => c.ready));
      for (const c of children) c.process.stdin!.write('go\n');
      await Promise.all(children.map((c) => c.half));
      for (const c of children) c.process.stdin!.write('go\n');
      const results = await Promise.all(children.map((c) => c.result));

      const events = readFormat(dir, format); // parses the whole file with JSON.parse / csv-parse
      const total = PROCESSES * EACH;
      expect(events).to.have.length(total);
      expect(events.map((e) => e.seq)).to.deep.equal(Array.from({ length: total }, (_, i) => i + 1));
      for (let i = 0; i < events.length; i++) {
        const e = events[i]!;
        expect(computeHash(e), `hash of seq ${e.seq}`).to.equal(e.hash);
        if (i > 0) expect(e.prev_hash, `prev_hash of seq ${e.seq}`).to.equal(events[i - 1]!.hash);
      }
      const bySeq = new Map<number, AuditEvent>(events.map((e) => [e.seq, e]));
      results.forEach(({ seqs }, p) => {
        expect(seqs).to.have.length(EACH);
        seqs.forEach((seq, i) => {
          const e = bySeq.get(seq)!;
          expect(e.details, `seq ${seq}`).to.include({ writer: names[p], i });
        });
        for (let i = 1; i < seqs.length; i++) expect(seqs[i]! > seqs[i - 1]!).to.equal(true);
      });
      // The processes really interleaved: every writer paused halfway until all were there, so even
      // writers run one after another switch at least 2 * PROCESSES - 1 times.
      let switches = 0;
      for (let i = 1; i < events.length; i++) if (events[i]!.source.pid !== events[i - 1]!.source.pid) switches++;
      expect(switches).to.be.greaterThan(PROCESSES);

      // The summary, from any process, counts what every process wrote.
      const summary = await new AuditLogger({ rootLogDir: dir, format }).getLogSummary();
      expect(summary.total_events).to.equal(total);
      expect(summary.by_action_type).to.deep.equal(Object.fromEntries(names.map((n) => [`write ${n}`, EACH])));
      let read = 0;
      for await (const _ of readEvents(dir)) read++;
      expect(read).to.equal(total);
    });
  }
});
